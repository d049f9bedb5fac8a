//! `certfleet status`: every certificate the server manages (domain leaves with their
//! chains, certdirs, the default certificate) with its expiry state, judged against
//! `[monitor] warn_days` (14 by default).

use crate::support::openssl::sha1_fingerprint;
use crate::support::pki::Ca;
use crate::support::run::{arg, TempDir};
use crate::support::serve::ServeConfig;
use serde_json::Value;

fn find<'a>(certificates: &'a [Value], sha1: &str) -> &'a Value {
    certificates
        .iter()
        .find(|c| c["sha1_thumbprint"] == sha1)
        .unwrap_or_else(|| panic!("{sha1} is not in status: {certificates:?}"))
}

#[test]
fn status_lists_every_managed_certificate_with_its_expiry_state() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Status");
    let mut config = ServeConfig::new(dir.path());
    let certdir = dir.join("certdir");
    let edge = ca.leaf(dir.path(), "edge.example.test", &[], 200, "");
    edge.install_certdir(&certdir);
    config.listener("web", Some(arg(&certdir)), None);
    let server = config.start();

    server.domain_ok(&["add", "example.test", "--json"]);
    let fresh = ca.leaf(dir.path(), "example.test", &[], 90, "");
    let soon = ca.leaf(dir.path(), "soon.example.test", &[], 10, "");
    let expired = ca.expired_leaf(dir.path(), "old.example.test");
    for (name, leaf) in [
        ("example.test", &fresh),
        ("soon.example.test", &soon),
        ("old.example.test", &expired),
    ] {
        if name != "example.test" {
            server.domain_ok(&["add", name, "--json"]);
        }
        server.domain_ok(&["set-cert", name, arg(&leaf.merged()), "--json"]);
    }

    let status = server.status();
    let certificates = status["certificates"].as_array().unwrap();
    let state = |leaf: &crate::support::pki::Leaf| {
        find(certificates, &sha1_fingerprint(&leaf.crt()))["state"].clone()
    };
    assert_eq!(state(&fresh), "ok");
    assert_eq!(state(&soon), "warning");
    assert_eq!(state(&expired), "expired");
    assert_eq!(state(&edge), "ok");
    let soon_entry = find(certificates, &sha1_fingerprint(&soon.crt()));
    assert_eq!(soon_entry["domain"], "soon.example.test");
    assert!((9..=10).contains(&soon_entry["days_remaining"].as_i64().unwrap()));
    let edge_entry = find(certificates, &sha1_fingerprint(&edge.crt()));
    assert_eq!(edge_entry["used_by"], "certdir web");
    // The chain's CA certificates are watched too, each once.
    let root = find(certificates, &sha1_fingerprint(&ca.root()));
    assert_eq!(root["role"], "root");
    let roots = certificates.iter().filter(|c| c["role"] == "root").count();
    assert_eq!(roots, 1, "{certificates:?}");
    assert!(certificates.iter().any(|c| c["role"] == "intermediate"));
    assert!(certificates.iter().any(|c| c["used_by"] == "default"));
}
