//! Test certificates made at test time (no checked-in keys): a root, an intermediate and
//! a leaf valid for a given number of days, as DER.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use certfleet_pki::authority::{init_ca, Authority};
use certfleet_pki::issue::{issue_leaf, LeafRequest};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;

/// `(root, intermediate, leaf)` for `cn`, the leaf valid for `days` days, the CAs a year.
pub fn chain(cn: &str, days: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let ca = init_ca(
        &format!("{cn} Root"),
        KeyAlgorithm::EcdsaP256,
        365,
        Some(&format!("{cn} Issuing")),
    )
    .unwrap();
    let (intermediate, key) = ca.intermediate.unwrap();
    let authority = Authority::new(intermediate.clone(), key, vec![ca.root_cert.clone()]).unwrap();
    let request = LeafRequest {
        cn: cn.to_owned(),
        dns_names: Vec::new(),
        ips: Vec::new(),
        usage: Usage::Server,
        days,
        key: KeyAlgorithm::EcdsaP256,
    };
    let leaf = issue_leaf(&request, Some(&authority)).unwrap();
    (
        ca.root_cert.to_vec(),
        intermediate.to_vec(),
        leaf.cert.to_vec(),
    )
}
