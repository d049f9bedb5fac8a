//! What the node sends when the server wants a certificate for a service: a CSR for the
//! service's key carrying the model's subject and names (so an external CA's
//! administrator sees what to sign), or, for a self-signed service, the certificate
//! itself, signed on the node with that key as the assignment's profile says. The key
//! never leaves the node either way.

use crate::error::{AgentError, Result};
use crate::material;
use certfleet_api::agent::{
    CertificateProfile, CertificateRequest, ServiceAssignment, SELF_SIGNED,
};
use certfleet_formats::pem;
use certfleet_pki::certs::to_pem;
use certfleet_pki::issue::{self_signed_for_key, LeafRequest};
use certfleet_pki::keys::PrivateKey;
use certfleet_pki::subject::SubjectAttributes;
use std::net::IpAddr;

/// The request for `assignment`'s certificate, for `key`.
pub fn for_service(assignment: &ServiceAssignment, key: &PrivateKey) -> Result<CertificateRequest> {
    let service = assignment.service.as_str();
    let Some(profile) = &assignment.profile else {
        // A server that sends no profile takes only the CSR's key.
        return Ok(csr_request(service, material::csr_pem(service, key)?));
    };
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        AgentError::Crypto(format!("service {service}: {what}: {e}"))
    };
    let subject = subject_of(profile);
    let ips = profile
        .ips
        .iter()
        .map(|ip| {
            ip.parse::<IpAddr>()
                .map_err(|e| failed(&format!("IP {ip}"), &e))
        })
        .collect::<Result<Vec<_>>>()?;
    if profile.issuer == SELF_SIGNED {
        let request = LeafRequest {
            cn: profile.cn.clone(),
            dns_names: profile.dns_names.clone(),
            ips,
            usage: profile.usage.parse().map_err(|e| failed("the usage", &e))?,
            days: profile.days,
            key: key.algorithm(),
        };
        let cert = self_signed_for_key(&request, &subject, key)
            .map_err(|e| failed("cannot make the self-signed certificate", &e))?;
        return Ok(CertificateRequest {
            service: service.to_owned(),
            csr_pem: String::new(),
            certificate_pem: Some(to_pem(std::slice::from_ref(&cert))),
        });
    }
    let der = certfleet_pki::csr::csr_for_key(&profile.cn, &subject, &profile.dns_names, &ips, key)
        .map_err(|e| failed("cannot make a CSR with the model's names", &e))?;
    Ok(csr_request(
        service,
        pem::encode("CERTIFICATE REQUEST", &der),
    ))
}

fn csr_request(service: &str, csr_pem: String) -> CertificateRequest {
    CertificateRequest {
        service: service.to_owned(),
        csr_pem,
        certificate_pem: None,
    }
}

fn subject_of(profile: &CertificateProfile) -> SubjectAttributes {
    let fields = &profile.subject;
    SubjectAttributes {
        country: fields.country.clone(),
        state: fields.state.clone(),
        locality: fields.locality.clone(),
        organization: fields.organization.clone(),
        org_unit: fields.org_unit.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_api::agent::{CertificateState, SubjectFields};

    fn assignment(issuer: &str) -> ServiceAssignment {
        ServiceAssignment {
            service: "web".into(),
            key: "ecdsa-p256".into(),
            certificate: CertificateState::Wanted {
                reason: "new".into(),
            },
            trust: Vec::new(),
            outputs: Vec::new(),
            hook: None,
            hook_timeout_seconds: 30,
            checks: Vec::new(),
            profile: Some(CertificateProfile {
                cn: "web.example.test".into(),
                subject: SubjectFields {
                    organization: Some("Example".into()),
                    ..SubjectFields::default()
                },
                dns_names: vec!["www.example.test".into()],
                ips: vec!["127.0.0.9".into()],
                usage: "both".into(),
                days: 30,
                issuer: issuer.into(),
            }),
            new_key: false,
        }
    }

    #[test]
    fn a_csr_carries_the_models_subject_and_names() {
        let key = PrivateKey::generate(certfleet_pki::keys::KeyAlgorithm::EcdsaP256).unwrap();
        let request = for_service(&assignment("external"), &key).unwrap();
        assert!(request.certificate_pem.is_none());
        let info = certfleet_pki::csr::read_csr(request.csr_pem.as_bytes()).unwrap();
        assert_eq!(info.cn.as_deref(), Some("web.example.test"));
        assert_eq!(info.attributes.organization.as_deref(), Some("Example"));
        let sans: Vec<String> = info.sans.unwrap().iter().map(|s| s.display()).collect();
        assert_eq!(
            sans,
            [
                "DNS:web.example.test",
                "DNS:www.example.test",
                "IP:127.0.0.9"
            ]
        );
        assert_eq!(info.spki, key.spki_der());
    }

    #[test]
    fn a_self_signed_service_gets_a_certificate_for_the_nodes_key() {
        let key = PrivateKey::generate(certfleet_pki::keys::KeyAlgorithm::EcdsaP256).unwrap();
        let request = for_service(&assignment(SELF_SIGNED), &key).unwrap();
        assert!(request.csr_pem.is_empty());
        let cert = material::first_certificate("test", &request.certificate_pem.unwrap()).unwrap();
        assert!(material::certifies("test", &cert, &key).unwrap());
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).unwrap();
        assert_eq!(parsed.issuer(), parsed.subject());
        let days = (parsed.validity().not_after.to_datetime()
            - parsed.validity().not_before.to_datetime())
        .whole_days();
        assert_eq!(days, 30);
    }
}
