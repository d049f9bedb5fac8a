//! A service's certificate profile as an assignment carries it
//! ([`certfleet_api::agent::CertificateProfile`]): the model's subject, names, usage,
//! validity and issuer, so that a node's CSR shows an external CA's administrator what to
//! sign, and a node can make a self-signed service's certificate itself.

use certfleet_api::agent::{CertificateProfile, SubjectFields};
use certfleet_platform::spec::{usage_name, Service};

/// The profile of `service`'s certificate.
pub fn profile_of(service: &Service) -> CertificateProfile {
    let subject = &service.subject;
    CertificateProfile {
        cn: service.cn.clone(),
        subject: SubjectFields {
            country: subject.country.clone(),
            state: subject.state.clone(),
            locality: subject.locality.clone(),
            organization: subject.organization.clone(),
            org_unit: subject.org_unit.clone(),
        },
        dns_names: service.dns_names.clone(),
        ips: service.ips.iter().map(ToString::to_string).collect(),
        usage: usage_name(service.usage).to_owned(),
        days: service.days,
        issuer: service.issuer.name().to_owned(),
    }
}
