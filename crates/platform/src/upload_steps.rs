//! Where a certificate made for a CSR from the appliance goes, for the report: on the
//! contact-center suite's appliances, the order of its manual (Upload Certificate, the
//! root and intermediates as `tomcat-trust`, then the certificate as `tomcat`); anywhere
//! else, back where the CSR was made. A certificate shared by several nodes is uploaded
//! on the first node only (the publisher, where its CSR was made): the appliances'
//! cluster distributes it, and the root and intermediates, to the other nodes.

use crate::certs::Material;
use crate::spec::{Format, Service};
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use rustls_pki_types::CertificateDer;
use std::path::{Path, PathBuf};

/// Kinds whose certificates are uploaded in the suite's OS Administration pages as
/// `tomcat` (the service's own) and `tomcat-trust` (root and intermediates).
const TOMCAT_KINDS: &[&str] = &[
    "uccx",
    "cucm",
    "finesse",
    "cuic",
    "socialminer",
    "ccp",
    "mediasense",
];

/// Where to upload the certificate and its chain, for the report: on the contact-center
/// suite's appliances, in the order of its manual (root and intermediates as
/// `tomcat-trust`, then the certificate as `tomcat`); elsewhere, where the CSR was made.
pub fn upload_steps(
    service: &Service,
    material: &Material,
    csr_path: &Path,
    state_cert: &Path,
    paths: &[PathBuf],
) -> Vec<String> {
    let output_of = |format: Format| {
        service
            .outputs
            .iter()
            .zip(paths)
            .find(|(o, _)| o.format == format)
            .map(|(_, p)| p.display().to_string())
    };
    let leaf_file = output_of(Format::Der)
        .unwrap_or_else(|| format!("the first certificate of {}", state_cert.display()));
    let chain_file =
        output_of(Format::PemChain).unwrap_or_else(|| state_cert.display().to_string());
    let subject = |der: &CertificateDer<'_>| {
        x509_parser::parse_x509_certificate(der.as_ref())
            .map(|(_, c)| c.subject().to_string())
            .unwrap_or_default()
    };
    let tomcat = service.kind.as_deref().is_some_and(|k| {
        TOMCAT_KINDS
            .iter()
            .any(|t| t.eq_ignore_ascii_case(k.trim()))
    });
    let mut steps = Vec::new();
    if tomcat {
        let mut chain: Vec<&CertificateDer<'static>> = material.chain.iter().collect();
        chain.reverse();
        for cert in chain {
            let what = if self_issued(cert) {
                "root"
            } else {
                "intermediate"
            };
            steps.push(format!(
                "upload: OS Administration > Security > Certificate Management > Upload Certificate: the {what} certificate {} (SHA-1 {}, in {chain_file}) as tomcat-trust",
                subject(cert),
                sha1_thumbprint(cert.as_ref())
            ));
        }
        steps.push(format!(
            "upload: then Upload Certificate again: the application certificate {} (SHA-1 {}, {leaf_file}) as tomcat, the answer to the CSR {}; then restart the applications the manual names (Tomcat)",
            material.info.subject,
            material.info.sha1_thumbprint,
            csr_path.display()
        ));
    } else {
        steps.push(format!(
            "install: the certificate {} ({leaf_file}) where the CSR {} was made, with its chain ({chain_file}); certfleet has no key for it",
            material.info.subject,
            csr_path.display()
        ));
    }
    if let Some(step) = shared_step(service, tomcat) {
        steps.push(step);
    }
    steps
}

/// For a certificate several nodes share: upload it on the first node only, the cluster
/// hands it to the others.
fn shared_step(service: &Service, tomcat: bool) -> Option<String> {
    let (first, others) = service.nodes.split_first()?;
    if others.is_empty() {
        return None;
    }
    let others = others.join(", ");
    Some(if tomcat {
        format!(
            "cluster: do these uploads on node {first} only (the publisher, where the CSR was made): the cluster distributes the multi-server certificate, and the root and intermediates uploaded as tomcat-trust, to {others}; then restart Tomcat on every node ({first}, {others})"
        )
    } else {
        format!(
            "cluster: install it on node {first} only (where the CSR was made and the key lives); {others} receive it from there, the way the appliances' cluster shares one certificate"
        )
    })
}

/// True for a certificate whose subject is its issuer (a root).
fn self_issued(der: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(der.as_ref())
        .map(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
        .unwrap_or(false)
}

#[cfg(test)]
#[path = "upload_steps_tests.rs"]
mod tests;
