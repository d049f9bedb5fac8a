//! Test PKI made at test time (no checked-in keys): merged bundles for given names, valid,
//! expired, or with a key that belongs to another certificate. Shared by the unit tests
//! and, through `#[path]`, by the integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use certfleet_pki::bundle::Bundle;
use certfleet_pki::issue::{issue_leaf, LeafRequest};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;

/// A self-signed ECDSA P-256 merged bundle (key, certificate) whose CN is `names[0]` and
/// whose DNS SANs are `names`.
pub fn bundle_pem(names: &[&str]) -> String {
    let request = LeafRequest {
        cn: names[0].into(),
        dns_names: names[1..].iter().map(|s| s.to_string()).collect(),
        ips: Vec::new(),
        usage: Usage::Server,
        days: 30,
        key: KeyAlgorithm::EcdsaP256,
    };
    let leaf = issue_leaf(&request, None).unwrap();
    let bundle = Bundle {
        key: Some(leaf.key),
        leaf: Some(leaf.cert),
        chain: Vec::new(),
        unrelated: Vec::new(),
    };
    bundle.to_merged_pem(None).unwrap().to_string()
}

/// A merged bundle for `names` whose validity ended in 2021.
pub fn expired_pem(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    format!("{}{}", key.serialize_pem(), cert.pem())
}

/// A bundle whose key belongs to a different certificate than the one it carries.
pub fn mismatched_pem(names: &[&str]) -> String {
    let one = bundle_pem(names);
    let other = bundle_pem(names);
    let key_of_one = &one[..one.find("-----BEGIN CERTIFICATE-----").unwrap()];
    let cert_of_other = &other[other.find("-----BEGIN CERTIFICATE-----").unwrap()..];
    format!("{key_of_one}{cert_of_other}")
}
