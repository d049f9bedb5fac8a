//! `lint`: judging certificates (and a chain, and a key) the way peers will, before a
//! service is restarted with them.
//!
//! [`lint`] takes the certificates of one file in the order they were found
//! ([`LintInput`]) and returns [`Finding`]s, each with a stable code (see [`codes`]), a
//! [`Severity`], a message naming the certificate and the facts, and a fix hint an
//! administrator can act on; [`LintReport`] writes them for people and for scripts.
//! Nothing here reads files or prints.
//!
//! How the certificates are read:
//! - The *leaf* is the certificate matching the private key when one is given, else the
//!   first certificate that issues no other certificate in the file, preferring one that
//!   is not a CA (details in the lint's `chain` checks).
//! - The *path* follows issuer links up from the leaf ([`crate::chain::order_chain`]);
//!   other certificates are *strays*.
//! - *End-entity* certificates are those that are not CAs, plus the leaf when it is a CA
//!   certificate used as a server certificate (it carries SANs or a TLS extended key
//!   usage, or it has no keyCertSign and issues nothing in the file — what
//!   `openssl req -x509` makes by default). Name, EKU and lifetime checks apply to them.
//!
//! ```
//! use certfleet_pki::lint::{lint, LintInput, Severity};
//! use certfleet_pki::{authority, issue, keys::KeyAlgorithm, profile::Usage};
//! let ca = authority::init_ca("Example Root", KeyAlgorithm::EcdsaP256, 365, None).unwrap();
//! let ca = authority::Authority::new(ca.root_cert, ca.root_key, vec![]).unwrap();
//! let request = issue::LeafRequest {
//!     cn: "web.example.test".into(),
//!     dns_names: vec![],
//!     ips: vec![],
//!     usage: Usage::Server,
//!     days: 90,
//!     key: KeyAlgorithm::EcdsaP256,
//! };
//! let leaf = issue::issue_leaf(&request, Some(&ca)).unwrap();
//! let mut certificates = vec![leaf.cert.clone()];
//! certificates.extend(leaf.chain.iter().cloned());
//! let mut input = LintInput::new(certificates);
//! input.key = Some(&leaf.key);
//! input.host = Some("web.example.test".into());
//! let findings = lint(&input);
//! assert!(findings.iter().all(|f| f.severity == Severity::Notice), "{findings:?}");
//! ```

mod chain;
pub mod codes;
mod extensions;
mod keys;
pub mod lifetime;
mod names;
mod peer;
mod public;
mod report;
mod signature;
#[cfg(test)]
mod testutil;
mod validity;

use crate::keys::PrivateKey;
pub use peer::PeerKeyRule;
pub use report::LintReport;
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use std::fmt;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;

/// The default number of days before expiry from which `expiring-soon` is reported.
pub const DEFAULT_WARN_DAYS: u32 = 14;

/// How bad a finding is. Ordered from worst to mildest, so sorting puts errors first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Peers will refuse the certificate or the chain; `lint` exits 1.
    Error,
    /// It works today but will break, or breaks for some peers.
    Warning,
    /// Worth knowing; nothing to fix unless a peer complains.
    Notice,
}

impl Severity {
    /// The lower-case name used in JSON and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable kebab-case code, one of [`codes`].
    pub code: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// What is wrong, naming the certificate (by its 1-based position in the file and
    /// its subject) and the facts (dates, names, sizes).
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// The 0-based index, in [`LintInput::certificates`], of the certificate concerned;
    /// `None` for findings about the file as a whole. Omitted from JSON when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<usize>,
}

impl Finding {
    pub(crate) fn new(
        code: &'static str,
        severity: Severity,
        certificate: Option<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Finding {
            code,
            severity,
            message: message.into(),
            hint: hint.into(),
            certificate,
        }
    }
}

/// True when any finding is an error (the CLI then exits 1).
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// What to lint.
#[derive(Debug, Clone)]
pub struct LintInput<'a> {
    /// Every certificate of the file, in the order found there.
    pub certificates: Vec<CertificateDer<'static>>,
    /// The private key found with them (a merged PEM), if any.
    pub key: Option<&'a PrivateKey>,
    /// A host name or IP address the leaf must cover (SANs only, as browsers check).
    pub host: Option<String>,
    /// The moment to judge validity at.
    pub at: OffsetDateTime,
    /// Report certificates expiring within this many days.
    pub warn_days: u32,
    /// The roots of the system trust store. A leaf whose path reaches one of them is
    /// publicly trusted and held to the CA/Browser Forum lifetime maximum
    /// ([`lifetime::PUBLIC_MAX_DAYS`]); empty means every leaf is judged as private.
    pub system_roots: Vec<CertificateDer<'static>>,
    /// The keys the peer that will load the leaf accepts; `None` judges the key only
    /// by what TLS peers in general accept.
    pub peer: Option<PeerKeyRule>,
}

impl LintInput<'_> {
    /// Input judged now, with no key, no host and no system roots, warning
    /// [`DEFAULT_WARN_DAYS`] ahead.
    pub fn new(certificates: Vec<CertificateDer<'static>>) -> Self {
        LintInput {
            certificates,
            key: None,
            host: None,
            at: OffsetDateTime::now_utc(),
            warn_days: DEFAULT_WARN_DAYS,
            system_roots: Vec::new(),
            peer: None,
        }
    }
}

/// One parsed certificate and what the checks need to know about it.
pub(crate) struct Cert<'a> {
    /// Position in [`LintInput::certificates`].
    pub index: usize,
    pub x509: X509Certificate<'a>,
    pub is_ca: bool,
    pub self_issued: bool,
    /// Set by the driver once the chain layout is known.
    pub end_entity: bool,
}

impl<'a> Cert<'a> {
    fn new(index: usize, x509: X509Certificate<'a>) -> Self {
        Cert {
            index,
            is_ca: x509.is_ca(),
            self_issued: crate::chain::is_self_issued(&x509),
            x509,
            end_entity: false,
        }
    }

    /// How messages name the certificate: `certificate 2 (CN=web.example.test)`.
    pub(crate) fn label(&self) -> String {
        format!("certificate {} ({})", self.index + 1, self.subject())
    }

    /// The subject as text, or a placeholder when it is empty.
    pub(crate) fn subject(&self) -> String {
        let subject = self.x509.subject().to_string();
        if subject.is_empty() {
            "empty subject".into()
        } else {
            subject
        }
    }

    /// A self-issued CA certificate: a root, whose own signature nobody checks.
    pub(crate) fn is_root(&self) -> bool {
        self.self_issued && self.is_ca
    }
}

/// Lints the certificates (and key) of one file. Findings come sorted: errors first,
/// then warnings, then notices; within a severity, by certificate position.
pub fn lint(input: &LintInput<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut certs: Vec<Cert<'_>> = Vec::new();
    for (index, der) in input.certificates.iter().enumerate() {
        if let Some(first) = input.certificates[..index].iter().position(|d| d == der) {
            findings.push(chain::duplicate(index, first));
            continue;
        }
        match x509_parser::parse_x509_certificate(der) {
            Ok((_, x509)) => certs.push(Cert::new(index, x509)),
            Err(e) => findings.push(Finding::new(
                codes::UNPARSABLE_CERTIFICATE,
                Severity::Error,
                Some(index),
                format!("certificate {} does not parse as X.509: {e}", index + 1),
                "Replace it with the certificate as the CA issued it (PEM or DER); check that the file was not truncated or edited.",
            )),
        }
    }
    if certs.is_empty() {
        if input.certificates.is_empty() {
            findings.push(Finding::new(
                codes::NO_CERTIFICATE,
                Severity::Error,
                None,
                "the file holds no certificate",
                "Give a file with at least one certificate (PEM CERTIFICATE blocks or DER).",
            ));
        }
        return sorted(findings);
    }

    let key_slot = input.key.map(|key| keys::matching_slot(&certs, key));
    let layout = chain::layout(&certs, key_slot.flatten());
    for (slot, cert) in certs.iter_mut().enumerate() {
        cert.end_entity = !cert.is_ca || (slot == layout.leaf && layout.leaf_is_end_entity);
    }
    let leaf = &certs[layout.leaf];
    let public_root = public::reached_root(&certs, &layout, &input.system_roots);

    if let (Some(key), Some(None)) = (input.key, key_slot) {
        findings.push(keys::mismatch(leaf, key));
    }
    for cert in &certs {
        findings.extend(validity::check(cert, input.at, input.warn_days));
        let reached = public_root.as_deref().filter(|_| cert.index == leaf.index);
        findings.extend(lifetime::check(cert, reached));
        findings.extend(keys::strength(cert));
        findings.extend(signature::algorithm(cert));
        findings.extend(extensions::check(cert, &certs));
        if cert.end_entity {
            findings.extend(names::check_sans(cert));
        }
    }
    if let Some(host) = &input.host {
        findings.extend(names::check_host(leaf, host));
    }
    if let Some(rule) = &input.peer {
        findings.extend(peer::check(leaf, rule));
    }
    findings.extend(chain::check(&certs, &layout));
    findings.extend(signature::verify_links(&certs));
    sorted(findings)
}

fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by_key(|f| (f.severity, f.certificate));
    findings
}

/// Formats a moment the way messages show dates: `2026-03-01 12:00:00 UTC`.
pub(crate) fn show_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::testutil::{certfleet_chain, codes_of};
    use super::*;

    #[test]
    fn a_certfleet_leaf_with_its_chain_has_no_error_or_warning() {
        for with_intermediate in [false, true] {
            let issued = certfleet_chain(with_intermediate);
            let mut certificates = vec![issued.cert.clone()];
            certificates.extend(issued.chain.iter().cloned());
            let mut input = LintInput::new(certificates);
            input.key = Some(&issued.key);
            input.host = Some("web.example.test".into());
            let findings = lint(&input);
            assert_eq!(findings, [], "with intermediate: {with_intermediate}");
            assert!(!has_errors(&findings));
        }
    }

    #[test]
    fn self_signed_certfleet_leaves_of_every_offered_key_have_no_error_or_warning() {
        use crate::issue::{issue_leaf, LeafRequest};
        use crate::keys::KeyAlgorithm;
        for key in KeyAlgorithm::ALL.into_iter().filter(|k| !k.is_weak()) {
            let request = LeafRequest {
                cn: "web.example.test".into(),
                dns_names: vec![],
                ips: vec!["10.0.0.1".parse().unwrap()],
                usage: crate::profile::Usage::Both,
                days: 397,
                key,
            };
            let issued = issue_leaf(&request, None).unwrap();
            let mut input = LintInput::new(vec![issued.cert]);
            input.key = Some(&issued.key);
            input.host = Some("10.0.0.1".into());
            let findings = lint(&input);
            let expected = if key == KeyAlgorithm::Ed25519 {
                vec![(codes::EDDSA_KEY, Severity::Notice)]
            } else {
                vec![]
            };
            assert_eq!(codes_of(&findings), expected, "{key}: {findings:#?}");
        }
    }

    #[test]
    fn an_empty_file_and_garbage_are_errors() {
        let findings = lint(&LintInput::new(vec![]));
        assert_eq!(
            codes_of(&findings),
            [(codes::NO_CERTIFICATE, Severity::Error)]
        );
        let findings = lint(&LintInput::new(vec![CertificateDer::from(vec![
            0x30, 0x00,
        ])]));
        assert_eq!(
            codes_of(&findings),
            [(codes::UNPARSABLE_CERTIFICATE, Severity::Error)]
        );
    }

    #[test]
    fn findings_serialize_with_the_fields_the_cli_promises() {
        let finding = Finding::new(codes::EXPIRED, Severity::Error, None, "m", "h");
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "expired", "severity": "error", "message": "m", "hint": "h"})
        );
        let finding = Finding::new(codes::EXPIRED, Severity::Notice, Some(2), "m", "h");
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(json["severity"], "notice");
        assert_eq!(json["certificate"], 2);
    }

    #[test]
    fn times_show_in_utc() {
        let t = time::macros::datetime!(2020-01-02 03:04:05 +02:00);
        assert_eq!(show_time(t), "2020-01-02 01:04:05 UTC");
    }
}
