//! A certificate for a CSR made where the service's key lives (`csr`: the CSR an
//! appliance's web administration makes and the administrator downloads). The file is
//! read and checked (its signature; its CN and names against the model, every difference
//! listed; its key against the service's kind), then signed by the internal CA or passed
//! on to the external CA, whose reply is checked against it. No key is made, read or
//! written: the outputs hold certificates only, and the report says where to upload them.
//!
//! A new key in the file (a new CSR made on the appliance) means a new certificate on the
//! next apply. Renewal at the usual point (a third of the lifetime left; a changed issuer,
//! CA, CN, names or usage) signs the same CSR again, so the appliance keeps its key, as
//! certfleet's own renewals keep theirs; a new key is the administrator's choice, made by
//! putting a new CSR at the same path.

use crate::certs::{
    describe, info_public_key, read_cert, ready, renewal_reason, service_err, Action, Material,
    Outcome, Status,
};
use crate::error::{PlatformError, Result};
use crate::paths::Layout;
use crate::render::FileWrite;
use crate::spec::{peer_keys, CsrFile, IssuerKind, Requested, Service};
use crate::state::ServiceState;
use certfleet_pki::authority::Authority;
use certfleet_pki::certs::to_pem;
use certfleet_pki::csr::{general_names_to_sans, read_csr, sign_csr, CsrInfo, SigningPolicy};
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::inspect::public_key::describe as describe_key;
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::names::San;
use certfleet_pki::PkiError;
use rustls_pki_types::CertificateDer;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Where the `csr` file written in the model is: relative to the model file's directory.
pub fn csr_path(model_path: &Path, cwd: &Path, file: &CsrFile) -> PathBuf {
    let written = Path::new(&file.written);
    if written.is_absolute() {
        return written.to_path_buf();
    }
    let model = cwd.join(model_path);
    model
        .parent()
        .map_or_else(|| cwd.join(written), |dir| dir.join(written))
}

/// What to record as the key algorithm of a certificate whose key certfleet does not
/// hold: the model's spelling when the key is one certfleet knows, else its type and size.
pub fn key_name(cert: &CertificateDer<'_>) -> String {
    x509_parser::parse_x509_certificate(cert.as_ref())
        .map(|(_, c)| spki_name(c.public_key()))
        .unwrap_or_else(|_| "unknown".into())
}

fn spki_algorithm(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Option<KeyAlgorithm> {
    let d = describe_key(spki);
    Some(
        match (d.key_type.as_str(), d.key_bits, d.curve.as_deref()) {
            ("RSA", 1024, _) => KeyAlgorithm::Rsa1024,
            ("RSA", 2048, _) => KeyAlgorithm::Rsa2048,
            ("RSA", 3072, _) => KeyAlgorithm::Rsa3072,
            ("RSA", 4096, _) => KeyAlgorithm::Rsa4096,
            ("EC", _, Some("P-256")) => KeyAlgorithm::EcdsaP256,
            ("EC", _, Some("P-384")) => KeyAlgorithm::EcdsaP384,
            ("Ed25519", _, _) => KeyAlgorithm::Ed25519,
            _ => return None,
        },
    )
}

fn spki_name(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> String {
    match spki_algorithm(spki) {
        Some(alg) => alg.name().to_owned(),
        None => {
            let d = describe_key(spki);
            format!("{} {}", d.key_type, d.key_bits)
        }
    }
}

/// An error about the service's `csr` file, naming the model file, the line of `csr`
/// and the CSR file.
fn csr_error(model_file: &str, file: &CsrFile, path: &Path, message: String) -> PlatformError {
    PlatformError::Model {
        file: model_file.to_owned(),
        line: file.line,
        key: "service.csr".into(),
        message: format!("{}: {message}", path.display()),
    }
}

/// Every way the CSR differs from what the model asks for: its CN and its names.
pub fn differences(service: &Service, csr: &CsrInfo) -> Vec<String> {
    let mut found = Vec::new();
    match csr.cn.as_deref() {
        Some(cn) if cn.eq_ignore_ascii_case(&service.cn) => {}
        Some(cn) => found.push(format!(
            "CN: the CSR asks for '{cn}', the model for '{}'",
            service.cn
        )),
        None => found.push(format!(
            "CN: the CSR has none, the model asks for '{}'",
            service.cn
        )),
    }
    match (&service.requested, &csr.sans) {
        (Requested::NoSan, None) => {}
        (Requested::NoSan, Some(names)) => found.push(format!(
            "SAN: the CSR asks for {}, the model for none (csr_san = false)",
            names.iter().map(San::display).collect::<Vec<_>>().join(", ")
        )),
        (Requested::Names(wanted), None) => found.push(format!(
            "SAN: the CSR has no subjectAltName extension, the model asks for {} (set csr_san = false to take a CSR without names)",
            wanted.iter().map(San::display).collect::<Vec<_>>().join(", ")
        )),
        (Requested::Names(wanted), Some(names)) => {
            let wanted: BTreeSet<&San> = wanted.iter().collect();
            let asked: BTreeSet<&San> = names.iter().collect();
            for extra in asked.difference(&wanted) {
                found.push(format!(
                    "SAN {} is in the CSR but not in the model",
                    extra.display()
                ));
            }
            for missing in wanted.difference(&asked) {
                found.push(format!(
                    "SAN {} is in the model but not in the CSR",
                    missing.display()
                ));
            }
        }
    }
    found
}

/// The service's CSR file, read and checked: its signature, its CN and names against the
/// model (every difference listed), its key against the service's kind.
pub fn read(model_file: &str, service: &Service, file: &CsrFile, path: &Path) -> Result<CsrInfo> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(csr_error(
                model_file,
                file,
                path,
                "no CSR there yet: make it where the key lives (on the contact-center suite: OS Administration > Security > Certificate Management > Generate CSR, certificate tomcat, then Download CSR) and save it at that path".into(),
            ))
        }
        Err(err) => return Err(PlatformError::io(path, &err)),
    };
    let csr = read_csr(&bytes)
        .map_err(|e| csr_error(model_file, file, path, format!("not a usable CSR: {e}")))?;
    let found = differences(service, &csr);
    if !found.is_empty() {
        return Err(csr_error(
            model_file,
            file,
            path,
            format!(
                "the CSR does not ask for what the model says (make a new CSR, or change cn, san, ips or csr_names to match):\n  {}",
                found.join("\n  ")
            ),
        ));
    }
    let spki = x509_parser::prelude::FromDer::from_der(&csr.spki)
        .map(|(_, spki): (_, x509_parser::x509::SubjectPublicKeyInfo<'_>)| spki)
        .map_err(|e| csr_error(model_file, file, path, format!("its public key: {e}")))?;
    if let Some(entry) = service.kind.as_deref().and_then(peer_keys) {
        let fits = spki_algorithm(&spki).is_some_and(|alg| entry.accepts(alg));
        if !fits {
            return Err(csr_error(
                model_file,
                file,
                path,
                format!(
                    "its key is {}, and kind {} takes {} keys only: {}",
                    spki_name(&spki),
                    service.kind.as_deref().unwrap_or_default(),
                    entry.accepted_names(),
                    entry.reason
                ),
            ));
        }
    }
    Ok(csr)
}

/// With `csr_san = false` the CA chooses the names, but they must include the CN
/// (browsers match names against the SANs only).
pub fn check_unnamed_reply(
    service: &Service,
    leaf: &CertificateDer<'_>,
) -> std::result::Result<(), PkiError> {
    if service.requested != Requested::NoSan {
        return Ok(());
    }
    let (_, parsed) =
        x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|e| PkiError::Malformed {
            what: "reply certificate".into(),
            detail: e.to_string(),
        })?;
    let names = match parsed.subject_alternative_name() {
        Ok(Some(ext)) => general_names_to_sans(&ext.value.general_names),
        _ => Vec::new(),
    };
    let cn = San::from_cn(&service.cn)?;
    if names.contains(&cn) {
        return Ok(());
    }
    Err(PkiError::Mismatch(vec![format!(
        "SAN {} (the CN) is not in the certificate, whose names are [{}]; browsers refuse a certificate whose CN is not among its SANs",
        cn.display(),
        names.iter().map(San::display).collect::<Vec<_>>().join(", ")
    )]))
}

/// The certificate for the service's CSR from the internal CA (`ca`; `None` in `plan`
/// when the CA does not exist yet): kept, signed for the first time, signed again (the
/// same CSR) at renewal, or signed anew for a new key in the file.
#[allow(clippy::too_many_arguments)]
pub fn signed(
    layout: &Layout,
    service: &Service,
    csr: CsrInfo,
    csr_path: &Path,
    prior: Option<&ServiceState>,
    ca: Option<&Authority>,
    apply: bool,
    now: OffsetDateTime,
) -> Result<Outcome> {
    let issuer_sha1 = ca
        .map(|a| sha1_thumbprint(a.certificate()))
        .unwrap_or_default();
    let cert = read_cert(&layout.cert_file(&service.name))?;
    let action = match (&cert, prior) {
        (Some((leaf, _)), Some(prior)) => {
            let info = describe(service, leaf, now)?;
            if info_public_key(leaf).as_deref() != Some(csr.public_key.as_slice()) {
                Action::Rekey(format!(
                    "the CSR {} holds a new key (made again where the key lives)",
                    csr_path.display()
                ))
            } else {
                match renewal_reason(service, prior, &info, Some(&issuer_sha1), now) {
                    Some(reason) => Action::Renew(format!(
                        "{reason}; the same CSR {} is signed again",
                        csr_path.display()
                    )),
                    None => Action::Keep,
                }
            }
        }
        _ => Action::Issue(format!(
            "no certificate yet (internal CA, signing the CSR {})",
            csr_path.display()
        )),
    };
    if action == Action::Keep {
        let (leaf, chain) = cert.ok_or_else(|| service_err(service, "certificate vanished"))?;
        let info = describe(service, &leaf, now)?;
        let material = Material {
            key: None,
            cert: leaf,
            chain,
            info,
        };
        return Ok(ready(service, material, &issuer_sha1, Action::Keep));
    }
    if !apply {
        return Ok(Outcome::new(Status::WillIssue, action));
    }
    let authority = ca.ok_or_else(|| service_err(service, "the internal CA is not available"))?;
    let leaf = sign_csr(
        authority,
        &csr,
        service.usage,
        service.days,
        &SigningPolicy::default(),
    )
    .map_err(|e| service_err(service, format!("signing {}: {e}", csr_path.display())))?;
    let chain = authority.issuing_chain();
    let info = describe(service, &leaf, now)?;
    let all: Vec<CertificateDer<'static>> = std::iter::once(leaf.clone())
        .chain(chain.iter().cloned())
        .collect();
    let material = Material {
        key: None,
        cert: leaf,
        chain,
        info,
    };
    let mut out = ready(service, material, &issuer_sha1, action);
    out.files.push(FileWrite {
        path: layout.cert_file(&service.name),
        contents: Zeroizing::new(to_pem(&all).into_bytes()),
        secret: false,
    });
    Ok(out)
}

/// The service's CSR passed on to the external CA: the CSR to submit is the file itself,
/// and the reply at `replies/<service>.crt` is checked against it.
pub fn external(
    layout: &Layout,
    service: &Service,
    csr: CsrInfo,
    csr_path: &Path,
    prior: Option<&ServiceState>,
    now: OffsetDateTime,
) -> Result<Outcome> {
    let request = crate::reply::Request {
        key: None,
        csr,
        csr_path: csr_path.to_path_buf(),
    };
    crate::reply::answered(layout, service, prior, request, now)
}

/// The outcome of a service with a `csr` file: read and checked, then signed or passed on.
#[allow(clippy::too_many_arguments)]
pub fn outcome(
    model_file: &str,
    layout: &Layout,
    service: &Service,
    file: &CsrFile,
    csr_path: &Path,
    prior: Option<&ServiceState>,
    ca: Option<&Authority>,
    apply: bool,
    now: OffsetDateTime,
    paths: &[PathBuf],
) -> Result<Outcome> {
    let csr = read(model_file, service, file, csr_path)?;
    let mut out = match service.issuer {
        IssuerKind::External => external(layout, service, csr, csr_path, prior, now)?,
        _ => signed(layout, service, csr, csr_path, prior, ca, apply, now)?,
    };
    if let Status::Ready(material) = &out.status {
        let steps = crate::upload_steps::upload_steps(
            service,
            material,
            csr_path,
            &layout.cert_file(&service.name),
            paths,
        );
        out.notes.extend(steps);
    }
    // Only the certificate is kept in the state directory; there is never a key.
    debug_assert!(out
        .files
        .iter()
        .all(|f| f.path != layout.key_file(&service.name)));
    Ok(out)
}

#[cfg(test)]
#[path = "supplied_csr_tests.rs"]
mod tests;
