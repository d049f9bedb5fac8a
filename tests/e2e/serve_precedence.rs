//! The selection order, one case at a time, each checked twice: by a real
//! handshake (`openssl s_client`, the served leaf's fingerprint) and by `certfleet domain
//! resolve` (source, domain, thumbprint). On a listener with a certdir and on one
//! without: exact match; inherited from the parent; an unknown name found through its
//! parent names; a child whose name is not under its parent's; the master tried last;
//! a walk that finds no certificate falling to the certdir, else the default; no SNI;
//! and an expired domain certificate that still wins over the certdir,
//! flagged expired in `resolve` and alerted in the server's log.

use crate::support::openssl::sha1_fingerprint;
use crate::support::pki::Ca;
use crate::support::run::{arg, TempDir};
use crate::support::serve::{served_sha1, ServeConfig, Server};
use serde_json::Value;
use std::net::SocketAddr;

/// One listener: its role and address, and what it serves when no domain applies.
#[derive(Clone, Copy)]
struct Listener<'a> {
    role: &'a str,
    addr: SocketAddr,
    fallback: (&'a str, &'a str),
}

/// Asserts that `resolve SNI --role ROLE` names `source`, `domain` and `sha1`, and that a
/// handshake with that SNI on the role's listener gets the certificate with `sha1`.
fn check(
    server: &Server,
    l: Listener<'_>,
    sni: &str,
    source: &str,
    domain: Option<&str>,
    sha1: &str,
) -> Value {
    let resolved = server.resolve(sni, l.role);
    let context = format!("{sni} on role {}: {resolved}", l.role);
    assert_eq!(resolved["source"], source, "{context}");
    assert_eq!(resolved["domain"].as_str(), domain, "{context}");
    assert_eq!(resolved["sha1_thumbprint"], sha1, "{context}");
    assert_eq!(served_sha1(l.addr, Some(sni)), sha1, "handshake: {context}");
    resolved
}

/// A domain's certificate: the same on every listener, whatever its certdir.
fn check_domain(
    server: &Server,
    ls: &[Listener<'_>],
    sni: &str,
    domain: &str,
    sha1: &str,
) -> Value {
    let mut last = Value::Null;
    for l in ls {
        last = check(server, *l, sni, "domain", Some(domain), sha1);
    }
    last
}

/// No domain applies: each listener's certdir, or the default certificate.
fn check_fallback(server: &Server, ls: &[Listener<'_>], sni: &str) {
    for l in ls {
        let (source, sha1) = l.fallback;
        check(server, *l, sni, source, None, sha1);
    }
}

/// Without SNI there is no domain lookup. `resolve` cannot send "no name"; an IP address,
/// which SNI cannot carry, takes the same path, so its answer must match the handshake.
fn check_no_sni(server: &Server, ls: &[Listener<'_>]) {
    for l in ls {
        let (source, sha1) = l.fallback;
        assert_eq!(served_sha1(l.addr, None), sha1, "no SNI on role {}", l.role);
        let resolved = server.resolve("127.0.0.1", l.role);
        assert_eq!(resolved["source"], source, "{resolved}");
        assert_eq!(resolved["sha1_thumbprint"], sha1, "{resolved}");
    }
}

#[test]
fn every_step_of_the_selection_order_by_handshake_and_by_resolve() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Precedence");
    let leaf = |cn: &str| ca.leaf(dir.path(), cn, &[], 90, "");
    let certdir = dir.join("certdir");
    let certdir_leaf = leaf("edge.other.test");
    certdir_leaf.install_certdir(&certdir);
    let mut config = ServeConfig::new(dir.path());
    let ws_addr = config.listener("ws", Some(arg(&certdir)), None);
    let api_addr = config.listener("api", None, None);
    let server = config.start();

    let certdir_sha1 = sha1_fingerprint(&certdir_leaf.crt());
    let default_sha1 = sha1_fingerprint(&config.data_dir.join("default.pem"));
    assert_ne!(certdir_sha1, default_sha1);
    let ws = Listener {
        role: "ws",
        addr: ws_addr,
        fallback: ("certdir", &certdir_sha1),
    };
    let api = Listener {
        role: "api",
        addr: api_addr,
        fallback: ("default", &default_sha1),
    };
    let both = [ws, api];

    // The tree: the master first, without a certificate for now.
    for (name, parent) in [
        ("example.test", None),
        ("shop.example.test", None),
        ("api.shop.example.test", Some("shop.example.test")),
        ("legacy.other.test", Some("shop.example.test")),
        ("expired.example.test", None),
        ("plain.example.test", None),
    ] {
        let mut args = vec!["add", name, "--json"];
        args.extend(parent.iter().flat_map(|p| ["--parent", *p]));
        server.domain_ok(&args);
    }
    let shop = leaf("shop.example.test");
    server.domain_ok(&[
        "set-cert",
        "shop.example.test",
        arg(&shop.merged()),
        "--json",
    ]);
    let expired = ca.expired_leaf(dir.path(), "expired.example.test");
    let stored = server.domain_ok(&[
        "set-cert",
        "expired.example.test",
        arg(&expired.merged()),
        "--json",
    ]);
    let warnings = stored["warnings"].to_string();
    assert!(warnings.contains("expired"), "{stored}");
    let shop_sha1 = sha1_fingerprint(&shop.crt());
    let expired_sha1 = sha1_fingerprint(&expired.crt());

    // 1a: the exact name, then a domain without a certificate inheriting its parent's.
    check_domain(
        &server,
        &both,
        "shop.example.test",
        "shop.example.test",
        &shop_sha1,
    );
    check_domain(
        &server,
        &both,
        "api.shop.example.test",
        "shop.example.test",
        &shop_sha1,
    );
    // 1b: an unknown name, through its first parent name that is a domain.
    check_domain(
        &server,
        &both,
        "www.api.shop.example.test",
        "shop.example.test",
        &shop_sha1,
    );
    // A child whose name is not under its parent's inherits all the same, with a
    // name-mismatch flag; so do unknown names under it.
    let legacy = check_domain(
        &server,
        &both,
        "legacy.other.test",
        "shop.example.test",
        &shop_sha1,
    );
    assert_eq!(legacy["name_mismatch"], true, "{legacy}");
    check_domain(
        &server,
        &both,
        "v1.legacy.other.test",
        "shop.example.test",
        &shop_sha1,
    );
    // An expired domain certificate still beats the certdir, flagged and alerted.
    let stale = check_domain(
        &server,
        &both,
        "expired.example.test",
        "expired.example.test",
        &expired_sha1,
    );
    assert_eq!(stale["expired"], true, "{stale}");
    assert!(
        stale["not_after"]
            .as_str()
            .unwrap()
            .starts_with("2020-02-01"),
        "{stale}"
    );
    assert!(
        stale["reason"].as_str().unwrap().contains("alert"),
        "{stale}"
    );
    // The handshakes above raised the alert: the server logs it with the thumbprint.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let logs = server.logs();
        let alert = logs
            .lines()
            .find(|line| line.contains("ALERT expired: domain expired.example.test"));
        if let Some(line) = alert {
            assert!(line.contains(&expired_sha1), "{line}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no expiry alert logged:\n{logs}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Walks that find no certificate (the master has none yet): certdir, else default.
    check_fallback(&server, &both, "plain.example.test");
    check_fallback(&server, &both, "nothing.elsewhere.test");
    check_no_sni(&server, &both);

    // With a certificate on the master, every SNI walk ends there at the latest.
    let master = leaf("example.test");
    server.domain_ok(&["set-cert", "example.test", arg(&master.merged()), "--json"]);
    let master_sha1 = sha1_fingerprint(&master.crt());
    check_domain(
        &server,
        &both,
        "plain.example.test",
        "example.test",
        &master_sha1,
    );
    let tried_last = check_domain(
        &server,
        &both,
        "nothing.elsewhere.test",
        "example.test",
        &master_sha1,
    );
    assert!(
        tried_last["reason"]
            .as_str()
            .unwrap()
            .contains("tried last"),
        "{tried_last}"
    );
    check_domain(
        &server,
        &both,
        "expired.example.test",
        "expired.example.test",
        &expired_sha1,
    );
    check_domain(
        &server,
        &both,
        "shop.example.test",
        "shop.example.test",
        &shop_sha1,
    );
    // Without SNI the tree is not consulted.
    check_no_sni(&server, &both);
}
