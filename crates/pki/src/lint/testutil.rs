//! Certificates made at test time for the lint tests: certfleet's own profiles for the
//! clean cases, rcgen directly for the bad ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{lint, Finding, LintInput, Severity};
use crate::authority::{init_ca, Authority};
use crate::issue::{issue_leaf, IssuedLeaf, LeafRequest};
use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::profile::Usage;
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, Issuer};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

/// A certfleet leaf for `web.example.test` with its chain (root, or intermediate + root).
pub(super) fn certfleet_chain(with_intermediate: bool) -> IssuedLeaf {
    let ca = init_ca(
        "Lint Test Root",
        KeyAlgorithm::EcdsaP256,
        365,
        with_intermediate.then_some("Lint Test Issuing"),
    )
    .unwrap();
    let authority = match ca.intermediate {
        Some((cert, key)) => Authority::new(cert, key, vec![ca.root_cert]).unwrap(),
        None => Authority::new(ca.root_cert, ca.root_key, vec![]).unwrap(),
    };
    let request = LeafRequest {
        cn: "web.example.test".into(),
        dns_names: vec!["alt.example.test".into()],
        ips: vec!["10.0.0.1".parse().unwrap()],
        usage: Usage::Server,
        days: 90,
        key: KeyAlgorithm::EcdsaP256,
    };
    issue_leaf(&request, Some(&authority)).unwrap()
}

/// A certfleet leaf, intermediate and root, each as DER.
pub(super) fn certfleet_parts() -> (
    CertificateDer<'static>,
    CertificateDer<'static>,
    CertificateDer<'static>,
) {
    let issued = certfleet_chain(true);
    (
        issued.cert,
        issued.chain[0].clone(),
        issued.chain[1].clone(),
    )
}

/// Parameters of a well-formed server leaf: CN and SAN `cn`, serverAuth, 90 days.
pub(super) fn leaf_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(vec![cn.to_string()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(89);
    params
}

/// Self-signs `params` with `key`.
pub(super) fn self_signed_with(
    params: CertificateParams,
    key: &PrivateKey,
) -> CertificateDer<'static> {
    params.self_signed(key).unwrap().der().clone()
}

/// Self-signs `params` with a fresh P-256 key.
pub(super) fn self_signed(params: CertificateParams) -> CertificateDer<'static> {
    self_signed_with(
        params,
        &PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
    )
}

/// Signs `params` (for `key`) by the CA described by `ca_params` and `ca_key`.
pub(super) fn signed_by(
    params: CertificateParams,
    key: &PrivateKey,
    ca_params: &CertificateParams,
    ca_key: &PrivateKey,
) -> CertificateDer<'static> {
    let issuer = Issuer::from_params(ca_params, ca_key);
    params.signed_by(key, &issuer).unwrap().der().clone()
}

/// Lints certificates alone, judged now.
pub(super) fn lint_certs(certs: Vec<CertificateDer<'static>>) -> Vec<Finding> {
    lint(&LintInput::new(certs))
}

/// The code and severity of each finding.
pub(super) fn codes_of(findings: &[Finding]) -> Vec<(&'static str, Severity)> {
    findings.iter().map(|f| (f.code, f.severity)).collect()
}
