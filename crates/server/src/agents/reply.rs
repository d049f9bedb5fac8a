//! An external CA's reply to the CSR a node sent for a service: checked against the kept
//! CSR (the same public key: the key stays on the node) and against the model (subject,
//! SANs, key kind, not expired), every difference listed; once accepted it is the
//! service's certificate, its chain what the service's peers trust, and the CSR is done.

use super::cert_checks::{key_difference, san_differences, subject_differences};
use super::model::request_of;
use super::records::{CertRecord, CsrRecord};
use certfleet_pki::certs::{parse_certificates, to_pem};
use certfleet_pki::csr::read_csr;
use certfleet_pki::import::check_reply;
use certfleet_pki::PkiError;
use certfleet_platform::spec::Service;
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

/// Why a reply is refused.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// The reply (or its chain) is not PEM certificates.
    #[error("{0}")]
    Unreadable(String),
    /// The kept CSR was made for what the model asked before it changed.
    #[error("{0}")]
    Outdated(String),
    /// The reply is not what the CSR and the model ask for.
    #[error("the reply for service {service} does not answer its node's CSR as the model asks: {}", differences.join("; "))]
    Mismatch {
        /// The service.
        service: String,
        /// Every difference.
        differences: Vec<String>,
    },
}

/// What an accepted reply gives: the service's certificate record and the leaf's subject.
pub struct Accepted {
    /// The record to keep.
    pub record: CertRecord,
    /// The leaf's subject, for the answer.
    pub subject: String,
}

/// Checks `certificate_pem` (plus `chain_pem`) against `csr` and `service`'s model.
pub fn check(
    service: &Service,
    csr: &CsrRecord,
    certificate_pem: &str,
    chain_pem: Option<&str>,
    now: OffsetDateTime,
) -> Result<Accepted, ReplyError> {
    if csr.request != request_of(service) {
        return Err(ReplyError::Outdated(format!(
            "the model of service {} changed since its node sent the CSR ({}); the node sends a new CSR for what the model asks now, sign that one",
            service.name, csr.received_at
        )));
    }
    let certs = parse_certificates(certificate_pem.as_bytes())
        .map_err(|err| ReplyError::Unreadable(format!("certificate_pem: {err}")))?;
    let extra: Vec<CertificateDer<'static>> = match chain_pem {
        Some(text) if !text.trim().is_empty() => parse_certificates(text.as_bytes())
            .map_err(|err| ReplyError::Unreadable(format!("chain_pem: {err}")))?,
        _ => Vec::new(),
    };
    let mut info = read_csr(csr.csr_pem.as_bytes()).map_err(|err| {
        ReplyError::Unreadable(format!("the kept CSR of service {}: {err}", service.name))
    })?;
    // The names are compared with the model below, not with the CSR (an older node's
    // CSR carried only the service's name).
    info.sans = None;
    let mut differences = Vec::new();
    let (leaf, chain) = match check_reply(&info, &certs, &extra, None) {
        Ok(reply) => (reply.leaf, reply.chain),
        Err(PkiError::Mismatch(found)) => {
            differences.extend(found);
            let first = certs
                .first()
                .cloned()
                .ok_or_else(|| ReplyError::Unreadable("certificate_pem: no certificate".into()))?;
            (first, Vec::new())
        }
        Err(err) => return Err(ReplyError::Unreadable(format!("certificate_pem: {err}"))),
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|err| ReplyError::Unreadable(format!("certificate_pem: {err}")))?;
    differences.extend(subject_differences(service, &parsed));
    differences.extend(san_differences(service, &parsed));
    differences.extend(key_difference(service, &parsed));
    let not_after = parsed.validity().not_after.to_datetime();
    if not_after <= now {
        differences.push(format!("validity: it expired on {not_after}"));
    }
    if !differences.is_empty() {
        return Err(ReplyError::Mismatch {
            service: service.name.clone(),
            differences,
        });
    }
    let record = CertRecord {
        leaf_pem: to_pem(std::slice::from_ref(&leaf)),
        chain_pem: chain
            .iter()
            .map(|cert| to_pem(std::slice::from_ref(cert)))
            .collect(),
        sha256: super::ca::pin_of(leaf.as_ref()),
        not_before: parsed.validity().not_before.to_datetime(),
        not_after,
        request: csr.request.clone(),
        renewal_requested: false,
        renewal_now: false,
    };
    Ok(Accepted {
        record,
        subject: parsed.subject().to_string(),
    })
}
