//! An external CA's answer to a certificate request: the reply at
//! `replies/<service>.crt` checked against the CSR (public key and names, every
//! difference listed) and imported, the certificate on record kept (with a note when it is
//! due for renewal), or the CSR still waiting. The request is certfleet's own (its key in
//! the state directory) or a CSR made where the key lives (no key at all).

use crate::certs::{
    chain_issuer_sha1, describe, info_public_key, read_cert, read_optional, ready, renewal_reason,
    Action, Material, Outcome, Status,
};
use crate::error::{PlatformError, Result};
use crate::paths::Layout;
use crate::render::FileWrite;
use crate::spec::{IssuerKind, Service};
use crate::state::ServiceState;
use certfleet_pki::certs::{parse_certificates, to_pem};
use certfleet_pki::import::check_reply;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::keys::PrivateKey;
use certfleet_pki::PkiError;
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A request waiting at an external CA: its CSR, where it is, and the key when certfleet
/// holds it.
pub(crate) struct Request {
    /// The key, when certfleet made it.
    pub key: Option<PrivateKey>,
    /// The CSR.
    pub csr: certfleet_pki::csr::CsrInfo,
    /// Where the CSR is (what the administrator submits).
    pub csr_path: std::path::PathBuf,
}

/// The external CA's answer to `request`: the reply at `replies/<service>.crt` checked
/// against the CSR and imported, the certificate on record kept (with a note when it is
/// due for renewal), or the CSR still waiting.
pub(crate) fn answered(
    layout: &Layout,
    service: &Service,
    prior: Option<&ServiceState>,
    request: Request,
    now: OffsetDateTime,
) -> Result<Outcome> {
    let Request {
        key,
        csr: csr_info,
        csr_path,
    } = request;
    let reply_path = layout.reply_file(&service.name);
    let mut notes = Vec::new();
    // A certificate on record counts only when it came from the external CA and is for
    // this key (a service moved from the internal CA waits for its reply).
    let from_external = prior.is_none_or(|p| p.issuer == IssuerKind::External.name());
    let imported = read_cert(&layout.cert_file(&service.name))?
        .filter(|(leaf, _)| {
            info_public_key(leaf).as_deref() == Some(csr_info.public_key.as_slice())
        })
        .filter(|_| from_external);
    let imported_sha1 = prior.map(|p| p.sha1_thumbprint.clone());

    // A reply that is not the certificate already imported is checked and imported.
    if let Some(bytes) = read_optional(&reply_path)? {
        let certs = parse_certificates(&bytes).map_err(|e| PlatformError::Reply {
            path: reply_path.clone(),
            message: e.to_string(),
        })?;
        let already = certs
            .iter()
            .any(|c| Some(sha1_thumbprint(c)) == imported_sha1)
            && imported.is_some();
        if !already {
            let reply = check_reply(&csr_info, &certs, &[], key.as_ref())
                .and_then(|reply| {
                    crate::supplied_csr::check_unnamed_reply(service, &reply.leaf)?;
                    Ok(reply)
                })
                .map_err(|e| {
                    let message = match e {
                        PkiError::Mismatch(_) => format!(
                            "{e}\nThe reply does not answer {}; ask the CA to sign that CSR again",
                            csr_path.display()
                        ),
                        other => other.to_string(),
                    };
                    PlatformError::Reply {
                        path: reply_path.clone(),
                        message,
                    }
                })?;
            let info = describe(service, &reply.leaf, now)?;
            let all: Vec<CertificateDer<'static>> = std::iter::once(reply.leaf.clone())
                .chain(reply.chain.iter().cloned())
                .collect();
            let issuer_sha1 = chain_issuer_sha1(&reply.chain);
            let material = Material {
                key,
                cert: reply.leaf,
                chain: reply.chain,
                info,
            };
            let what = format!("import the CA's reply from {}", reply_path.display());
            let action = if imported.is_some() {
                Action::Renew(what)
            } else {
                Action::Issue(what)
            };
            let mut out = ready(service, material, &issuer_sha1, action);
            out.files.push(FileWrite {
                path: layout.cert_file(&service.name),
                contents: Zeroizing::new(to_pem(&all).into_bytes()),
                secret: false,
            });
            return Ok(out);
        }
    }

    match imported {
        Some((leaf, chain)) => {
            let info = describe(service, &leaf, now)?;
            if let Some(prior) = prior {
                if let Some(reason) = renewal_reason(service, prior, &info, None, now) {
                    let again = if service.csr_file.is_some() {
                        " (or a new CSR made where the key lives, to change the key)"
                    } else {
                        ""
                    };
                    notes.push(format!(
                        "renewal due ({reason}): submit {}{again} to the CA and put its reply at {}",
                        csr_path.display(),
                        reply_path.display()
                    ));
                }
            }
            let issuer_sha1 = chain_issuer_sha1(&chain);
            let material = Material {
                key,
                cert: leaf,
                chain,
                info,
            };
            let mut out = ready(service, material, &issuer_sha1, Action::Keep);
            out.csr_waiting = !notes.is_empty();
            out.notes = notes;
            Ok(out)
        }
        None => {
            let mut out = Outcome::new(Status::AwaitingReply, Action::Keep);
            out.csr_waiting = true;
            Ok(out)
        }
    }
}
