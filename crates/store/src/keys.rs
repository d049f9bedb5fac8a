//! Every key certfleet stores something under, built in one place, so the layout of the
//! store can be read here and two features cannot collide.
//!
//! | Prefix | What |
//! |---|---|
//! | `domains/<name>` | a domain of the tree, its certificate sealed |
//! | `cas/<name>` | a CA of the server, its keys sealed |
//! | `acme/accounts/<digest>` | an ACME account per directory and contact, sealed |
//! | `acme/state/<domain>` | a domain's ACME progress |
//! | `acme/http-01/<token>`, `acme/tls-alpn-01/<domain>` | challenge answers any node serves |
//! | `ca-renewal/<domain>` | the renewal progress of a domain certificate from a server CA |
//! | `locks/acme-account/<digest>`, `locks/acme-order/<domain>`, `locks/ca-renewal/<domain>` | cluster-wide locks |
//! | `scans/<host:port>/<sni or ->` | the latest scan of an endpoint |
//! | `agents/...` | enrolment tokens, nodes, certificates, reports, rollouts of agents |
//! | `audit/...` | the audit log (the store's own [`crate::audit`]) |
//!
//! Each function refuses a segment that would escape its place ([`Key::from_segments`]).

use crate::{Key, Result};

/// `domains`.
pub const DOMAINS: &str = "domains";
/// `cas`.
pub const CAS: &str = "cas";
/// `scans`.
pub const SCANS: &str = "scans";
/// `agents`.
pub const AGENTS: &str = "agents";

/// The prefix of every domain.
pub fn domains() -> Result<Key> {
    Key::from_segments([DOMAINS])
}

/// Domain `name`.
pub fn domain(name: &str) -> Result<Key> {
    Key::from_segments([DOMAINS, name])
}

/// The prefix of every CA.
pub fn cas() -> Result<Key> {
    Key::from_segments([CAS])
}

/// CA `name`.
pub fn ca(name: &str) -> Result<Key> {
    Key::from_segments([CAS, name])
}

/// The ACME account whose directory and contact hash to `digest` (hex).
pub fn acme_account(digest: &str) -> Result<Key> {
    Key::from_segments(["acme", "accounts", digest])
}

/// The lock held while the ACME account `digest` is created.
pub fn acme_account_lock(digest: &str) -> Result<Key> {
    Key::from_segments(["locks", "acme-account", digest])
}

/// The lock held while an order for `domain` runs.
pub fn acme_order_lock(domain: &str) -> Result<Key> {
    Key::from_segments(["locks", "acme-order", domain])
}

/// `domain`'s ACME progress.
pub fn acme_state(domain: &str) -> Result<Key> {
    Key::from_segments(["acme", "state", domain])
}

/// The renewal progress of `domain`'s certificate from one of the server's CAs.
pub fn ca_renewal_state(domain: &str) -> Result<Key> {
    Key::from_segments(["ca-renewal", domain])
}

/// The lock held while `domain`'s certificate is renewed from one of the server's CAs.
pub fn ca_renewal_lock(domain: &str) -> Result<Key> {
    Key::from_segments(["locks", "ca-renewal", domain])
}

/// The HTTP-01 answer for `token`.
pub fn acme_http01(token: &str) -> Result<Key> {
    Key::from_segments(["acme", "http-01", token])
}

/// The prefix of every TLS-ALPN-01 answer.
pub fn acme_tls_alpn01s() -> Result<Key> {
    Key::from_segments(["acme", "tls-alpn-01"])
}

/// The TLS-ALPN-01 answer for `domain`.
pub fn acme_tls_alpn01(domain: &str) -> Result<Key> {
    Key::from_segments(["acme", "tls-alpn-01", domain])
}

/// The prefix of every scan record.
pub fn scans() -> Result<Key> {
    Key::from_segments([SCANS])
}

/// The latest scan of `endpoint` (`host:port`) with `sni` (`-` for none).
pub fn scan(endpoint: &str, sni: &str) -> Result<Key> {
    Key::from_segments([SCANS, endpoint, sni])
}

/// `agents/<segments...>`: the agents' records (see the server's agents module).
pub fn agents(segments: &[&str]) -> Result<Key> {
    Key::from_segments(std::iter::once(AGENTS).chain(segments.iter().copied()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keys_keep_their_prefix_and_refuse_traversal() {
        assert_eq!(
            domain("example.test").unwrap().as_str(),
            "domains/example.test"
        );
        assert_eq!(
            scan("a.test:443", "-").unwrap().as_str(),
            "scans/a.test:443/-"
        );
        assert_eq!(
            agents(&["nodes", "qms", "n1"]).unwrap().as_str(),
            "agents/nodes/qms/n1"
        );
        assert!(domain("../cas/x").is_err());
        assert!(ca("a/b").is_err());
    }
}
