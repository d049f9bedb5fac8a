//! Each service's certificate: what is on record, whether it must be issued, renewed or
//! re-keyed, and doing so (internal CA, self-signed, or an external CA's reply checked
//! against the CSR).
//!
//! Renewal keeps the key: it is due when less than a third of the lifetime is left, or
//! when the CN, the SAN set, the usage or the issuer changed. A changed key algorithm or
//! a missing key means a new key (`rekey`).

use crate::error::{PlatformError, Result};
use crate::paths::Layout;
use crate::render::FileWrite;
use crate::rotation::staging::{ForcedRekey, Staged};
use crate::spec::{usage_name, IssuerKind, Requested, Service};
use crate::state::ServiceState;
use certfleet_pki::authority::Authority;
use certfleet_pki::certs::{parse_certificates, to_pem};
use certfleet_pki::csr::{csr_for_key, read_csr};
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::inspect::{describe_certificate, CertificateInfo};
use certfleet_pki::issue::{issue_leaf_with_subject, LeafRequest};
use certfleet_pki::keys::PrivateKey;
use certfleet_pki::names::San;
use certfleet_pki::PkiError;
use rcgen::PublicKeyData;
use rustls_pki_types::CertificateDer;
use std::collections::BTreeSet;
use std::path::Path;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A service's usable certificate.
#[derive(Debug)]
pub struct Material {
    /// Its key; `None` when the key stays where the service's CSR was made (`csr`).
    pub key: Option<PrivateKey>,
    /// The leaf.
    pub cert: CertificateDer<'static>,
    /// The issuing chain up to the root, as far as known.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf described.
    pub info: CertificateInfo,
}

/// Where a service's certificate stands.
#[derive(Debug)]
pub enum Status {
    /// Usable (kept, or just issued or imported).
    Ready(Box<Material>),
    /// `plan` only: it would be issued, renewed or re-keyed; its bytes are not known.
    WillIssue,
    /// External CA: the CSR waits for a reply.
    AwaitingReply,
    /// ACME: issued by the running server.
    Acme,
}

/// What `plan` reports and `apply` did about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    Keep,
    /// First issue (or import).
    Issue(String),
    /// New certificate, same key.
    Renew(String),
    /// New key and certificate.
    Rekey(String),
}

/// The outcome for one service.
#[derive(Debug)]
pub struct Outcome {
    /// Its certificate.
    pub status: Status,
    /// What happens to it.
    pub action: Action,
    /// Files for the state directory (key, certificate, CSR).
    pub files: Vec<FileWrite>,
    /// The record for `state.json`, when there is a certificate.
    pub record: Option<ServiceState>,
    /// Remarks for the report (renewal due at the external CA, ...).
    pub notes: Vec<String>,
    /// True when a CSR waits at the external CA.
    pub csr_waiting: bool,
}

impl Outcome {
    /// An outcome with no files, record, notes or CSR waiting.
    pub(crate) fn new(status: Status, action: Action) -> Self {
        Outcome {
            status,
            action,
            files: Vec::new(),
            record: None,
            notes: Vec::new(),
            csr_waiting: false,
        }
    }
}

/// A usable certificate, with its record for `state.json`.
pub(crate) fn ready(
    service: &Service,
    material: Material,
    issuer_sha1: &str,
    action: Action,
) -> Outcome {
    let record = record(service, &material, issuer_sha1);
    let mut out = Outcome::new(Status::Ready(Box::new(material)), action);
    out.record = Some(record);
    out
}

/// The SHA-1 thumbprint of the certificate that signed the leaf of `chain` (its first
/// element), or empty when the chain is unknown.
pub(crate) fn chain_issuer_sha1(chain: &[CertificateDer<'_>]) -> String {
    chain
        .first()
        .map(|c| sha1_thumbprint(c.as_ref()))
        .unwrap_or_default()
}

pub(crate) fn service_err(service: &Service, e: impl std::fmt::Display) -> PlatformError {
    PlatformError::service(&service.name, e)
}

pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(PlatformError::io(path, &err)),
    }
}

fn read_key(path: &Path) -> Result<Option<PrivateKey>> {
    Ok(read_optional(path)?.and_then(|bytes| {
        let bytes = Zeroizing::new(bytes);
        // An unreadable key counts as missing: the certificate is then re-keyed.
        PrivateKey::from_bytes(&bytes).ok()
    }))
}

/// The leaf and chain kept in `certs/<service>.crt`, when readable.
pub(crate) fn read_cert(
    path: &Path,
) -> Result<Option<(CertificateDer<'static>, Vec<CertificateDer<'static>>)>> {
    Ok(read_optional(path)?
        .and_then(|bytes| parse_certificates(&bytes).ok())
        .and_then(|mut certs| {
            if certs.is_empty() {
                None
            } else {
                let leaf = certs.remove(0);
                Some((leaf, certs))
            }
        }))
}

fn sans_text(sans: &[San]) -> Vec<String> {
    sans.iter().map(San::display).collect()
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The record of a certificate for `state.json`.
fn record(service: &Service, m: &Material, issuer_sha1: &str) -> ServiceState {
    ServiceState {
        issuer: service.issuer.name().to_owned(),
        key_algorithm: match &m.key {
            Some(key) => PrivateKey::algorithm(key).name().to_owned(),
            None => crate::supplied_csr::key_name(&m.cert),
        },
        cn: service.cn.clone(),
        sans: {
            let mut s = m.info.sans.clone();
            s.sort();
            s
        },
        usage: usage_name(service.usage).to_owned(),
        sha1_thumbprint: m.info.sha1_thumbprint.clone(),
        sha256_fingerprint: m.info.sha256_fingerprint.clone(),
        issuer_thumbprint: issuer_sha1.to_owned(),
        not_before: m.info.not_before.clone(),
        not_after: m.info.not_after.clone(),
    }
}

fn wanted_sans(service: &Service) -> Vec<String> {
    let mut s = sans_text(&service.sans);
    s.sort();
    s
}

/// What a certificate's names are judged against: the names its request asks for
/// (`None`: the CSR has no names, the CA chose them).
fn requested_sans(service: &Service) -> Option<Vec<String>> {
    match service.issuer {
        IssuerKind::External => service.requested.sorted_text(),
        _ if service.csr_file.is_some() => service.requested.sorted_text(),
        _ => Some(wanted_sans(service)),
    }
}

/// Why an existing certificate must be renewed, if it must.
pub(crate) fn renewal_reason(
    service: &Service,
    prior: &ServiceState,
    info: &CertificateInfo,
    issuer_sha1: Option<&str>,
    now: OffsetDateTime,
) -> Option<String> {
    if prior.issuer != service.issuer.name() {
        return Some(format!(
            "the issuer changed from {} to {}",
            prior.issuer,
            service.issuer.name()
        ));
    }
    if let Some(sha1) = issuer_sha1 {
        if sha1 != prior.issuer_thumbprint {
            return Some("the internal CA changed".into());
        }
    }
    if prior.cn != service.cn {
        return Some(format!(
            "the CN changed from {} to {}",
            prior.cn, service.cn
        ));
    }
    let wanted = requested_sans(service);
    let mut have = info.sans.clone();
    have.sort();
    if let Some(wanted) = wanted.filter(|wanted| &have != wanted) {
        let have_set: BTreeSet<&String> = have.iter().collect();
        let want_set: BTreeSet<&String> = wanted.iter().collect();
        let added: Vec<&str> = want_set.difference(&have_set).map(|s| s.as_str()).collect();
        let removed: Vec<&str> = have_set.difference(&want_set).map(|s| s.as_str()).collect();
        return Some(format!(
            "the SANs changed (added: {}; removed: {})",
            if added.is_empty() {
                "none".into()
            } else {
                added.join(", ")
            },
            if removed.is_empty() {
                "none".into()
            } else {
                removed.join(", ")
            }
        ));
    }
    if prior.usage != usage_name(service.usage) {
        return Some(format!(
            "the usage changed from {} to {}",
            prior.usage,
            usage_name(service.usage)
        ));
    }
    let (from, to) = (parse_time(&info.not_before)?, parse_time(&info.not_after)?);
    let lifetime = to - from;
    if to - now < lifetime / 3 {
        return Some(format!(
            "it expires on {}, with less than a third of its lifetime left",
            info.not_after
        ));
    }
    None
}

/// True when the certificate's C, ST, L, O or OU differ from what the model asks for
/// (an unreadable certificate counts as changed).
fn subject_changed(service: &Service, cert: &CertificateDer<'_>) -> bool {
    certfleet_pki::subject::of_certificate(cert).ok().as_ref() != Some(&service.subject)
}

pub(crate) fn describe(
    service: &Service,
    cert: &CertificateDer<'_>,
    now: OffsetDateTime,
) -> Result<CertificateInfo> {
    describe_certificate(cert, now).map_err(|e| service_err(service, e))
}

pub(crate) fn request(service: &Service) -> LeafRequest {
    LeafRequest {
        cn: service.cn.clone(),
        dns_names: service.dns_names.clone(),
        ips: service.ips.clone(),
        usage: service.usage,
        days: service.days,
        key: service.key,
    }
}

/// A certificate from the internal CA (`ca` is its issuing authority; `None` in `plan`
/// when the CA does not exist yet) or self-signed. With `force_rekey` (a keys rotation's)
/// an existing certificate gets a new key whatever else holds: the staged one when the
/// rotation made it ahead (a self-signed service), else a fresh one.
pub fn issued(
    layout: &Layout,
    service: &Service,
    prior: Option<&ServiceState>,
    ca: Option<&Authority>,
    force_rekey: Option<ForcedRekey>,
    apply: bool,
    now: OffsetDateTime,
) -> Result<Outcome> {
    let key = read_key(&layout.key_file(&service.name))?;
    let cert = read_cert(&layout.cert_file(&service.name))?;
    let issuer_sha1 = match service.issuer {
        IssuerKind::Internal => Some(
            ca.map(|a| sha1_thumbprint(a.certificate()))
                .unwrap_or_default(),
        ),
        _ => None,
    };
    let key_fits = key
        .as_ref()
        .filter(|k| PrivateKey::algorithm(k) == service.key);
    let mut action = match (&cert, prior) {
        (Some((leaf, _)), Some(prior)) => {
            let info = describe(service, leaf, now)?;
            let matches_key = key
                .as_ref()
                .is_some_and(|k| info_public_key(leaf).as_deref() == Some(k.der_bytes()));
            if key.is_none() || !matches_key {
                Action::Rekey(
                    "its key is missing from the state directory or does not match the certificate"
                        .into(),
                )
            } else if key_fits.is_none() {
                Action::Rekey(format!(
                    "the key algorithm changed from {} to {}",
                    prior.key_algorithm,
                    service.key.name()
                ))
            } else {
                match renewal_reason(service, prior, &info, issuer_sha1.as_deref(), now) {
                    Some(reason) => Action::Renew(reason),
                    None if subject_changed(service, leaf) => Action::Renew(
                        "the subject attributes (country, state, locality, org, org_unit) changed"
                            .into(),
                    ),
                    None => Action::Keep,
                }
            }
        }
        _ => Action::Issue(format!(
            "no certificate yet ({} {}, {})",
            service.issuer.name(),
            service.key.name(),
            sans_text(&service.sans).join(" ")
        )),
    };
    let mut staged = None;
    if let Some(forced) = force_rekey {
        if matches!(action, Action::Keep | Action::Renew(_)) {
            action = Action::Rekey(forced.reason);
            staged = forced.staged;
        }
    }
    if action == Action::Keep {
        let (leaf, chain) = cert.ok_or_else(|| service_err(service, "certificate vanished"))?;
        let key = key.ok_or_else(|| service_err(service, "key vanished"))?;
        let info = describe(service, &leaf, now)?;
        let material = Material {
            key: Some(key),
            cert: leaf,
            chain,
            info,
        };
        let sha1 = issuer_sha1.unwrap_or_else(|| material.info.sha1_thumbprint.clone());
        return Ok(ready(service, material, &sha1, Action::Keep));
    }
    if !apply {
        return Ok(Outcome::new(Status::WillIssue, action));
    }
    if let Some(staged) = staged {
        return deploy_staged(layout, service, staged, action, now);
    }
    // The key is kept unless re-keying, or it is missing or of another algorithm.
    let keep_key = key_fits.is_some() && !matches!(action, Action::Rekey(_));
    let (new_key, key_is_new) = match key.filter(|_| keep_key) {
        Some(k) => (k, false),
        None => (
            PrivateKey::generate(service.key).map_err(|e| service_err(service, e))?,
            true,
        ),
    };
    let authority = match service.issuer {
        IssuerKind::Internal => {
            Some(ca.ok_or_else(|| service_err(service, "the internal CA is not available"))?)
        }
        _ => None,
    };
    let leaf = issue_leaf_with_subject(&request(service), &service.subject, new_key, authority)
        .map_err(|e| service_err(service, e))?;
    let info = describe(service, &leaf.cert, now)?;
    let mut files = Vec::new();
    if key_is_new {
        files.push(FileWrite {
            path: layout.key_file(&service.name),
            contents: Zeroizing::new(leaf.key.to_pem().as_bytes().to_vec()),
            secret: true,
        });
    }
    let all: Vec<CertificateDer<'static>> = std::iter::once(leaf.cert.clone())
        .chain(leaf.chain.iter().cloned())
        .collect();
    files.push(FileWrite {
        path: layout.cert_file(&service.name),
        contents: Zeroizing::new(to_pem(&all).into_bytes()),
        secret: false,
    });
    let material = Material {
        key: Some(leaf.key),
        cert: leaf.cert,
        chain: leaf.chain,
        info,
    };
    let sha1 = issuer_sha1.unwrap_or_else(|| material.info.sha1_thumbprint.clone());
    let mut out = ready(service, material, &sha1, action);
    out.files = files;
    Ok(out)
}

/// The key and self-signed certificate a keys rotation made ahead, as the service's own.
fn deploy_staged(
    layout: &Layout,
    service: &Service,
    staged: Staged,
    action: Action,
    now: OffsetDateTime,
) -> Result<Outcome> {
    let files = vec![
        FileWrite {
            path: layout.key_file(&service.name),
            contents: Zeroizing::new(staged.key.to_pem().as_bytes().to_vec()),
            secret: true,
        },
        FileWrite {
            path: layout.cert_file(&service.name),
            contents: Zeroizing::new(to_pem(std::slice::from_ref(&staged.cert)).into_bytes()),
            secret: false,
        },
    ];
    let info = describe(service, &staged.cert, now)?;
    let sha1 = info.sha1_thumbprint.clone();
    let material = Material {
        key: Some(staged.key),
        cert: staged.cert,
        chain: Vec::new(),
        info,
    };
    let mut out = ready(service, material, &sha1, action);
    out.files = files;
    Ok(out)
}

pub(crate) fn info_public_key(cert: &CertificateDer<'_>) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(cert)
        .ok()
        .map(|(_, c)| c.public_key().subject_public_key.data.to_vec())
}

/// A certificate from an external CA: key and CSR written when missing or outdated, the
/// reply at `replies/<service>.crt` checked against the CSR and imported.
pub fn external(
    layout: &Layout,
    service: &Service,
    prior: Option<&ServiceState>,
    now: OffsetDateTime,
) -> Result<Outcome> {
    let key_path = layout.key_file(&service.name);
    let csr_path = layout.csr_file(&service.name);
    let mut files = Vec::new();
    let key = match read_key(&key_path)?.filter(|k| PrivateKey::algorithm(k) == service.key) {
        Some(k) => k,
        None => {
            let k = PrivateKey::generate(service.key).map_err(|e| service_err(service, e))?;
            files.push(FileWrite {
                path: key_path.clone(),
                contents: Zeroizing::new(k.to_pem().as_bytes().to_vec()),
                secret: true,
            });
            k
        }
    };
    // The CSR on disk is kept when it asks for what the model wants with this key.
    let wanted = service.requested.sorted_text();
    let csr_current = read_optional(&csr_path)?
        .and_then(|bytes| read_csr(&bytes).ok())
        .filter(|info| {
            let sans = info.sans.as_ref().map(|s| {
                let mut sans = sans_text(s);
                sans.sort();
                sans
            });
            info.public_key == key.der_bytes()
                && info.cn.as_deref() == Some(service.cn.as_str())
                && info.attributes == service.subject
                && sans == wanted
        });
    let csr_info = match csr_current {
        Some(info) => info,
        None => {
            let der = match &service.requested {
                Requested::Names(names) => {
                    let (dns, ips) = split_names(names);
                    csr_for_key(&service.cn, &service.subject, &dns, &ips, &key)
                }
                Requested::NoSan => csr_without_names(&service.cn, &service.subject, &key),
            }
            .map_err(|e| service_err(service, e))?;
            let text = certfleet_formats::pem::encode("CERTIFICATE REQUEST", &der);
            files.push(FileWrite {
                path: csr_path.clone(),
                contents: Zeroizing::new(text.into_bytes()),
                secret: false,
            });
            read_csr(&der).map_err(|e| service_err(service, e))?
        }
    };
    let request = crate::reply::Request {
        key: Some(key),
        csr: csr_info,
        csr_path,
    };
    let mut out = crate::reply::answered(layout, service, prior, request, now)?;
    files.append(&mut out.files);
    out.files = files;
    Ok(out)
}

/// The DNS names and addresses of a SAN list.
fn split_names(names: &[San]) -> (Vec<String>, Vec<std::net::IpAddr>) {
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    for name in names {
        match name {
            San::Dns(d) => dns.push(d.clone()),
            San::Ip(ip) => ips.push(*ip),
        }
    }
    (dns, ips)
}

/// A DER CSR with the subject and no subjectAltName extension, so that the CA chooses
/// the names.
fn csr_without_names(
    cn: &str,
    subject: &certfleet_pki::subject::SubjectAttributes,
    key: &PrivateKey,
) -> std::result::Result<Vec<u8>, PkiError> {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = subject.checked()?.distinguished_name(cn);
    Ok(params.serialize_request(key)?.der().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse, Locator};
    use crate::validate::validate;
    use time::Duration;

    fn service(extra: &str) -> Service {
        let text = format!(
            "[platform]\nname = \"p\"\n[[node]]\nname = \"n\"\nfqdn = \"n.example.test\"\n[[service]]\nname = \"s\"\nnode = \"n\"\n{extra}"
        );
        let loc = Locator::new("m.toml", &text);
        validate(&loc, &parse(&loc, &text).unwrap())
            .unwrap()
            .services
            .remove(0)
    }

    fn commit(files: &[FileWrite]) {
        for f in files {
            std::fs::create_dir_all(f.path.parent().unwrap()).unwrap();
            std::fs::write(&f.path, f.contents.as_slice()).unwrap();
        }
    }

    #[test]
    fn issue_then_keep_then_renew_then_rekey() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(&dir.path().join("m.toml"), None, "p", dir.path());
        let now = OffsetDateTime::now_utc();
        let s = service("ca = \"self-signed\"\ndays = 30\n");
        let first = issued(&layout, &s, None, None, None, false, now).unwrap();
        assert!(matches!(first.action, Action::Issue(_)));
        assert!(matches!(first.status, Status::WillIssue));
        let first = issued(&layout, &s, None, None, None, true, now).unwrap();
        commit(&first.files);
        let record = first.record.unwrap();
        let again = issued(&layout, &s, Some(&record), None, None, false, now).unwrap();
        assert_eq!(again.action, Action::Keep);
        // Twenty-five days later less than a third of thirty is left.
        let later = issued(
            &layout,
            &s,
            Some(&record),
            None,
            None,
            false,
            now + Duration::days(25),
        )
        .unwrap();
        assert!(
            matches!(later.action, Action::Renew(_)),
            "{:?}",
            later.action
        );
        // A new SAN renews with the same key.
        let more = service("ca = \"self-signed\"\ndays = 30\nsan = [\"x.example.test\"]\n");
        let renewed = issued(&layout, &more, Some(&record), None, None, true, now).unwrap();
        assert!(matches!(renewed.action, Action::Renew(ref r) if r.contains("DNS:x.example.test")));
        assert!(renewed.files.iter().all(|f| !f.path.ends_with("s.key")));
        // Another algorithm re-keys.
        let rsa = service("ca = \"self-signed\"\nkey = \"ed25519\"\n");
        let rekeyed = issued(&layout, &rsa, Some(&record), None, None, false, now).unwrap();
        assert!(matches!(rekeyed.action, Action::Rekey(_)));
        // A keys rotation re-keys a certificate that would be kept.
        let forced = issued(
            &layout,
            &s,
            Some(&record),
            None,
            Some(ForcedRekey {
                reason: "rotate keys, started 2026-01-01".into(),
                staged: None,
            }),
            false,
            now,
        )
        .unwrap();
        assert_eq!(
            forced.action,
            Action::Rekey("rotate keys, started 2026-01-01".into())
        );
        // A missing key re-keys.
        std::fs::remove_file(layout.key_file("s")).unwrap();
        let lost = issued(&layout, &s, Some(&record), None, None, false, now).unwrap();
        assert!(matches!(lost.action, Action::Rekey(ref r) if r.contains("missing")));
    }

    #[test]
    fn an_external_reply_is_imported_only_when_it_answers_the_csr() {
        use certfleet_pki::csr::{sign_csr, SigningPolicy};
        use certfleet_pki::keys::KeyAlgorithm;
        use certfleet_pki::profile::Usage;
        use certfleet_testkit::TestCa;
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(&dir.path().join("m.toml"), None, "p", dir.path());
        let now = OffsetDateTime::now_utc();
        let s = service("ca = \"external\"\n");
        let waiting = external(&layout, &s, None, now).unwrap();
        assert!(matches!(waiting.status, Status::AwaitingReply));
        assert_eq!(waiting.files.len(), 2);
        commit(&waiting.files);
        // Nothing new to write the second time.
        assert!(external(&layout, &s, None, now).unwrap().files.is_empty());

        let ca = TestCa::root_valid_for("Ext Root", 60);
        let authority = ca.authority();
        let csr = read_csr(&std::fs::read(layout.csr_file("s")).unwrap()).unwrap();
        let cert = sign_csr(
            authority,
            &csr,
            Usage::Server,
            30,
            &SigningPolicy::default(),
        )
        .unwrap();
        std::fs::create_dir_all(layout.reply_file("s").parent().unwrap()).unwrap();
        std::fs::write(
            layout.reply_file("s"),
            to_pem(&[cert, ca.root_cert().clone()]),
        )
        .unwrap();
        let imported = external(&layout, &s, None, now).unwrap();
        assert!(matches!(imported.action, Action::Issue(_)));
        let Status::Ready(m) = &imported.status else {
            panic!("not ready")
        };
        assert_eq!(m.chain, vec![ca.root_cert().clone()]);

        // A reply for another request is refused with the differences.
        let other = certfleet_pki::csr::new_csr(
            "other.example.test",
            &[],
            &[],
            false,
            KeyAlgorithm::EcdsaP256,
        )
        .unwrap();
        let other = read_csr(&other.csr_der).unwrap();
        let wrong = sign_csr(
            authority,
            &other,
            Usage::Server,
            30,
            &SigningPolicy::default(),
        )
        .unwrap();
        std::fs::write(layout.reply_file("s"), to_pem(&[wrong])).unwrap();
        let message = external(&layout, &s, None, now).unwrap_err().to_string();
        assert!(message.contains("does not match the CSR"), "{message}");
        assert!(message.contains("DNS:other.example.test"), "{message}");
    }
}
