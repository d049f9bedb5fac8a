//! Leaf requests with test defaults, and self-signed leaves issued from them.

use certfleet_pki::issue::{issue_leaf, IssuedLeaf, LeafRequest};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;

/// A request for a server leaf whose CN is `cn`: no SANs besides, ECDSA P-256, 30 days.
/// Tests change what they need with struct update syntax:
/// `LeafRequest { days: 5, ..server_leaf("a.test") }`.
pub fn server_leaf(cn: &str) -> LeafRequest {
    LeafRequest {
        cn: cn.to_owned(),
        dns_names: Vec::new(),
        ips: Vec::new(),
        usage: Usage::Server,
        days: 30,
        key: KeyAlgorithm::EcdsaP256,
    }
}

/// A self-signed leaf for `request`, with its new key.
pub fn self_signed(request: &LeafRequest) -> IssuedLeaf {
    issue_leaf(request, None).expect("self-signed test leaf")
}
