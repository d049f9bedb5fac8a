//! `POST /agent/v1/certificates`: a CSR for a service's key, made on the node. The CSR's
//! signature is checked and only its public key counts: names, subject, usage and
//! validity come from the model. The internal CA signs at once; an external CA's CSR is
//! kept for the administrator; a self-signed service's node sends the certificate it
//! made instead ([`super::self_signed`]). The server never sees the service's key.

use super::errors::AgentError;
use super::model::{request_of, PlatformView};
use super::records::{CertRecord, CsrRecord, Records};
use certfleet_api::agent::{CertificateState, IssuedCertificate};
use certfleet_pki::certs::to_pem;
use certfleet_pki::csr::{read_csr, CsrInfo};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile;
use certfleet_platform::spec::{IssuerKind, Service};
use time::OffsetDateTime;

/// Handles a CSR for `service` (already known to run on the asking node), or the
/// `certificate_pem` its node made for a self-signed service.
pub async fn request_certificate(
    view: &PlatformView,
    service: &Service,
    csr_pem: &str,
    certificate_pem: Option<&str>,
    records: &Records,
    now: OffsetDateTime,
) -> Result<CertificateState, AgentError> {
    if service.is_shared() {
        return Ok(super::shared::awaiting());
    }
    if service.issuer == IssuerKind::SelfSigned {
        let Some(certificate_pem) = certificate_pem else {
            return Ok(CertificateState::Awaiting {
                reason: super::self_signed::CSR_REFUSED.into(),
            });
        };
        return super::self_signed::accept(view, service, certificate_pem, records, now).await;
    }
    let csr = read_csr(csr_pem.as_bytes())
        .map_err(|err| AgentError::bad_request(format!("csr_pem: {err}")))?;
    if csr.is_rsa != service.key.is_rsa() {
        return Err(AgentError::bad_request(format!(
            "csr_pem: the CSR's key is {}, the model asks for {} for service {}",
            if csr.is_rsa { "RSA" } else { "not RSA" },
            service.key.name(),
            service.name
        )));
    }
    let platform = &view.platform.name;
    match service.issuer {
        IssuerKind::Internal => {
            let record = sign(view, service, &csr)?;
            records
                .put(&["certs", platform, &service.name], &record)
                .await
                .map_err(AgentError::internal)?;
            tracing::info!(
                "agents: issued a certificate for service {} of platform {} (sha256 {})",
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
        IssuerKind::External => {
            let record = CsrRecord {
                csr_pem: csr_pem.to_owned(),
                request: request_of(service),
                received_at: now,
            };
            records
                .put(&["csrs", platform, &service.name], &record)
                .await
                .map_err(AgentError::internal)?;
            Ok(CertificateState::Awaiting {
                reason: "the CSR is with the external CA's administrator; the reply is awaited"
                    .into(),
            })
        }
        IssuerKind::Acme => {
            super::acme_orders::accept_csr(view, service, &csr, csr_pem, records, now).await
        }
        // Self-signed services were answered above.
        IssuerKind::SelfSigned => Ok(CertificateState::Awaiting {
            reason: format!(
                "{} certificates are not supported by agents yet",
                service.issuer.name()
            ),
        }),
    }
}

/// Signs the model's certificate for `service` with the internal CA, for the CSR's key.
fn sign(view: &PlatformView, service: &Service, csr: &CsrInfo) -> Result<CertRecord, AgentError> {
    let authority = view.authority()?;
    let failed = |err: &dyn std::fmt::Display| {
        AgentError::internal(format!(
            "signing service {} of platform {}: {err}",
            service.name, view.platform.name
        ))
    };
    let key_kind = if csr.is_rsa {
        KeyAlgorithm::Rsa2048
    } else {
        KeyAlgorithm::EcdsaP256
    };
    let window =
        profile::validity(service.days, Some(authority.not_after())).map_err(|e| failed(&e))?;
    let params = profile::leaf_params(
        &service.cn,
        &service.subject,
        &service.sans,
        service.usage,
        key_kind,
        window,
    )
    .map_err(|e| failed(&e))?;
    let leaf = authority
        .sign_public_key(&params, &csr.spki)
        .map_err(|e| failed(&e))?;
    Ok(CertRecord {
        leaf_pem: to_pem(std::slice::from_ref(&leaf)),
        chain_pem: authority
            .issuing_chain()
            .iter()
            .map(|c| to_pem(std::slice::from_ref(c)))
            .collect(),
        sha256: super::ca::pin_of(leaf.as_ref()),
        not_before: window.0,
        not_after: window.1,
        request: request_of(service),
        renewal_requested: false,
        renewal_now: false,
    })
}
