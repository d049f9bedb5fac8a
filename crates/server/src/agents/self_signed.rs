//! A self-signed service's certificate, made on its node with the key that never leaves
//! it: the node sends the certificate, and it is kept as the service's certificate only
//! when it is self-signed (its own signature verifies) and exactly what the model asks
//! for (subject, SANs, usage, key kind, validity). Its peers then trust that leaf.

use super::cert_checks::{
    key_difference, san_differences, self_signature_differences, subject_differences,
    usage_differences, validity_differences,
};
use super::errors::AgentError;
use super::model::{request_of, PlatformView};
use super::records::{CertRecord, Records};
use certfleet_api::agent::{CertificateState, IssuedCertificate};
use certfleet_pki::certs::{parse_single_certificate, to_pem};
use certfleet_platform::spec::Service;
use time::OffsetDateTime;

/// Why a node must send a certificate rather than a CSR for a self-signed service.
pub const CSR_REFUSED: &str = "the service is self-signed: its node signs the certificate with its own key and sends it (certificate_pem); this agent sends only CSRs, so update it";

/// Checks the certificate a node made for `service` and keeps it.
pub async fn accept(
    view: &PlatformView,
    service: &Service,
    certificate_pem: &str,
    records: &Records,
    now: OffsetDateTime,
) -> Result<CertificateState, AgentError> {
    let record = check(service, certificate_pem, now)?;
    let platform = &view.platform.name;
    records
        .put(&["certs", platform, &service.name], &record)
        .await
        .map_err(AgentError::internal)?;
    tracing::info!(
        "agents: kept the self-signed certificate node {} made for service {} of platform {} (sha256 {})",
        service.node,
        service.name,
        platform,
        record.sha256
    );
    Ok(CertificateState::Issued(IssuedCertificate {
        leaf_pem: record.leaf_pem,
        chain_pem: record.chain_pem,
        sha256: record.sha256,
        not_after: record.not_after,
    }))
}

/// The record of `certificate_pem` when it is what the model asks of `service`; a
/// 400 listing every difference otherwise.
pub fn check(
    service: &Service,
    certificate_pem: &str,
    now: OffsetDateTime,
) -> Result<CertRecord, AgentError> {
    let der = parse_single_certificate(certificate_pem.as_bytes())
        .map_err(|err| AgentError::bad_request(format!("certificate_pem: {err}")))?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|err| AgentError::bad_request(format!("certificate_pem: {err}")))?;
    let mut differences = self_signature_differences(&cert);
    differences.extend(subject_differences(service, &cert));
    differences.extend(san_differences(service, &cert));
    differences.extend(key_difference(service, &cert));
    differences.extend(usage_differences(service, &cert));
    differences.extend(validity_differences(service, &cert, now));
    if !differences.is_empty() {
        return Err(AgentError::bad_request(format!(
            "certificate_pem: the self-signed certificate for service {} is not what the model asks for: {}",
            service.name,
            differences.join("; ")
        )));
    }
    Ok(CertRecord {
        leaf_pem: to_pem(std::slice::from_ref(&der)),
        chain_pem: Vec::new(),
        sha256: super::ca::pin_of(der.as_ref()),
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        request: request_of(service),
        renewal_requested: false,
        renewal_now: false,
    })
}
