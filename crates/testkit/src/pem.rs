//! Merged PEM bundles (the key, then the leaf, then its chain) as certfleet reads them:
//! valid, expired, not yet valid, or carrying a key of another certificate.

use certfleet_pki::bundle::Bundle;
use certfleet_pki::issue::{IssuedLeaf, LeafRequest};

use crate::leaf::{self_signed, server_leaf};

/// `leaf` as a merged PEM bundle: its key, its certificate, then its chain.
pub fn merged_pem(leaf: IssuedLeaf) -> String {
    let bundle = Bundle {
        key: Some(leaf.key),
        leaf: Some(leaf.cert),
        chain: leaf.chain,
        unrelated: Vec::new(),
    };
    bundle
        .to_merged_pem(None)
        .expect("merged PEM of a test leaf")
        .to_string()
}

/// A self-signed merged bundle (ECDSA P-256, 30 days) whose CN is `names[0]` and whose
/// DNS SANs are `names` (certfleet's profile puts the CN among the SANs).
pub fn bundle_pem(names: &[&str]) -> String {
    let (cn, sans) = names.split_first().expect("at least one name");
    merged_pem(self_signed(&LeafRequest {
        dns_names: sans.iter().map(|name| name.to_string()).collect(),
        ..server_leaf(cn)
    }))
}

/// A self-signed merged bundle with DNS SANs `names` whose validity ended in 2021.
pub fn expired_pem(names: &[&str]) -> String {
    pem_valid_between(names, (2020, 1, 1), (2021, 1, 1))
}

/// A self-signed merged bundle with DNS SANs `names` whose validity starts in 2100.
pub fn not_yet_valid_pem(names: &[&str]) -> String {
    pem_valid_between(names, (2100, 1, 1), (2101, 1, 1))
}

/// A merged bundle for `names` whose key belongs to another certificate than the one it
/// carries.
pub fn mismatched_pem(names: &[&str]) -> String {
    let one = bundle_pem(names);
    let other = bundle_pem(names);
    let key_of_one = &one[..certificate_start(&one)];
    let cert_of_other = &other[certificate_start(&other)..];
    format!("{key_of_one}{cert_of_other}")
}

/// Where the first certificate of a merged bundle starts.
fn certificate_start(pem: &str) -> usize {
    pem.find("-----BEGIN CERTIFICATE-----")
        .expect("a merged bundle carries a certificate")
}

/// A self-signed merged bundle made by rcgen directly (certfleet's issuing only makes
/// windows that start now), valid from `from` to `until` (year, month, day).
fn pem_valid_between(names: &[&str], from: (i32, u8, u8), until: (i32, u8, u8)) -> String {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).expect("test names");
    params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    params.not_after = rcgen::date_time_ymd(until.0, until.1, until.2);
    let key = rcgen::KeyPair::generate().expect("test key");
    let cert = params.self_signed(&key).expect("test certificate");
    format!("{}{}", key.serialize_pem(), cert.pem())
}
