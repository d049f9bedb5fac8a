//! `certfleet domain delete` and `certfleet domain move` against a real `certfleet
//! serve`, judged by openssl handshakes on its HTTPS listener:
//!
//! - deleting a leaf that had its own certificate: the next handshake naming it gets
//!   what a never-added name under its parent gets;
//! - a domain with children is refused without `--recursive` (exit 2, counting and
//!   naming them), and with it the whole branch goes, handshakes falling back;
//! - moving a branch under another parent: its domains without a certificate of their
//!   own now get the new parent's, at once; moves that would break the tree are
//!   refused with the reason, as is an unknown domain (exit 2, the server's 404);
//! - every deletion and the move are in the audit log (who, what, the names, the old
//!   and the new parent) and on one line each of the server's log, without key
//!   material; the deleted domains are gone from `status`, and still gone after a
//!   restart;
//! - with the `etcd` feature: on two nodes sharing an etcd store, a deletion and a move
//!   made through one node are served by the other.

use crate::support::https::request;
use crate::support::openssl::sha1_fingerprint;
use crate::support::pki::self_signed;
use crate::support::run::{arg, assert_exit, describe, TempDir};
use crate::support::serve::{served_sha1, ServeConfig, Server};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;

/// Adds `name` (under `parent`, or the master's default) through the CLI; with `cert`,
/// sets a self-signed certificate for it and returns its SHA-1 thumbprint.
fn add(server: &Server, dir: &Path, name: &str, parent: Option<&str>, cert: bool) -> String {
    let mut args = vec!["add", name, "--json"];
    if let Some(parent) = parent {
        args.extend(["--parent", parent]);
    }
    server.domain_ok(&args);
    if !cert {
        return String::new();
    }
    let leaf = self_signed(dir, name);
    server.domain_ok(&["set-cert", name, arg(&leaf.merged()), "--json"]);
    sha1_fingerprint(&leaf.crt())
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A refused `domain ARGS...`: exit 2 with `words` in its message.
fn refused(server: &Server, args: &[&str], words: &[&str]) {
    let out = server.domain(args);
    assert_exit(&out, 2);
    for word in words {
        assert!(
            stderr(&out).contains(word),
            "{args:?}: no '{word}' in\n{}",
            describe(&out)
        );
    }
}

/// The audit log's records, newest first.
fn audit(server: &Server) -> Vec<Value> {
    let token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let answer = request(
        "GET",
        &format!("https://{}/api/audit?limit=200", server.admin),
        &[format!("Authorization: Bearer {}", token.trim())],
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["records"].as_array().unwrap().clone()
}

/// The audit record of `action` on `object`.
fn audited<'a>(records: &'a [Value], action: &str, object: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["action"] == action && r["object"] == object)
        .unwrap_or_else(|| panic!("no {action} of {object} in the audit log: {records:#?}"))
}

/// The names of the domains `domain list --json` gives.
fn names(server: &Server) -> Vec<String> {
    server
        .domain_ok(&["list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn deleting_and_moving_domains_changes_what_handshakes_get_at_once() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    let ws: SocketAddr = config.listener("ws", None, None);
    let mut server = config.start();

    // example.test [M] ← shop [S] ← {api [A], www ← v2}; example.test ← other.test [O]
    let master = add(&server, dir.path(), "example.test", None, true);
    let shop = add(&server, dir.path(), "shop.example.test", None, true);
    let other = add(&server, dir.path(), "other.test", None, true);
    let api = add(
        &server,
        dir.path(),
        "api.shop.example.test",
        Some("shop.example.test"),
        true,
    );
    add(
        &server,
        dir.path(),
        "www.shop.example.test",
        Some("shop.example.test"),
        false,
    );
    add(
        &server,
        dir.path(),
        "v2.www.shop.example.test",
        Some("www.shop.example.test"),
        false,
    );
    assert_eq!(served_sha1(ws, Some("api.shop.example.test")), api);
    assert_eq!(served_sha1(ws, Some("v2.www.shop.example.test")), shop);

    // A leaf with its own certificate: it goes, and its name falls back to shop's.
    let out = server.domain(&["delete", "api.shop.example.test"]);
    assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "deleted api.shop.example.test; its names now get what shop.example.test serves\n"
    );
    assert_eq!(served_sha1(ws, Some("api.shop.example.test")), shop);
    let resolved = server.resolve("api.shop.example.test", "ws");
    assert_eq!(resolved["domain"], "shop.example.test", "{resolved}");

    // Unknown names: a clear error and exit 2, for delete and move alike.
    refused(
        &server,
        &["delete", "nowhere.test"],
        &["no domain is named nowhere.test"],
    );
    refused(
        &server,
        &["move", "nowhere.test", "--parent", "example.test"],
        &["no domain is named nowhere.test"],
    );

    // A move: www (and v2 below it) go under other.test and now get its certificate.
    let moved = server.domain_ok(&[
        "move",
        "www.shop.example.test",
        "--parent",
        "other.test",
        "--json",
    ]);
    assert_eq!(moved["old_parent"], "shop.example.test", "{moved}");
    assert_eq!(moved["new_parent"], "other.test", "{moved}");
    assert_eq!(
        moved["descendants"],
        serde_json::json!(["v2.www.shop.example.test"])
    );
    assert_eq!(moved["domain"]["effective_domain"], "other.test", "{moved}");
    for sni in ["www.shop.example.test", "v2.www.shop.example.test"] {
        assert_eq!(served_sha1(ws, Some(sni)), other, "handshake for {sni}");
    }
    let again = server.domain(&["move", "www.shop.example.test", "--parent", "other.test"]);
    assert_exit(&again, 0);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));

    // Moves that would break the tree are refused with the reason.
    refused(
        &server,
        &["move", "other.test", "--parent", "other.test"],
        &["cannot be its own parent"],
    );
    refused(
        &server,
        &["move", "other.test", "--parent", "v2.www.shop.example.test"],
        &["cycle"],
    );
    refused(
        &server,
        &["move", "example.test", "--parent", "other.test"],
        &["master domain"],
    );
    refused(
        &server,
        &["move", "other.test", "--parent", "nowhere.test"],
        &["parent: no domain is named nowhere.test"],
    );

    // A parent is refused without --recursive, with how many go and a few names.
    refused(
        &server,
        &["delete", "other.test"],
        &[
            "1 child domain (www.shop.example.test)",
            "2 domains below it in all",
            "--recursive",
        ],
    );
    assert_eq!(
        served_sha1(ws, Some("other.test")),
        other,
        "a refusal changes nothing"
    );
    let deleted = server.domain_ok(&["delete", "other.test", "--recursive", "--json"]);
    assert_eq!(
        deleted["deleted"],
        serde_json::json!([
            "v2.www.shop.example.test",
            "www.shop.example.test",
            "other.test"
        ])
    );
    // Their names fall back as never-added names do: the first parent name that is a
    // domain, else the master.
    assert_eq!(served_sha1(ws, Some("www.shop.example.test")), shop);
    assert_eq!(served_sha1(ws, Some("v2.www.shop.example.test")), shop);
    assert_eq!(served_sha1(ws, Some("other.test")), master);
    assert_eq!(names(&server), ["example.test", "shop.example.test"]);

    // Gone from the inventory too.
    let status = server.status();
    let used_by: Vec<&str> = status["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["domain"].as_str())
        .collect();
    assert!(
        !used_by.contains(&"other.test") && !used_by.contains(&"api.shop.example.test"),
        "{status}"
    );

    // Audited: who, what, which domain, the old and the new parent.
    let records = audit(&server);
    let moved = audited(&records, "domain.move", "domain www.shop.example.test");
    assert_eq!(moved["actor"], "admin-token");
    assert_eq!(
        moved["detail"],
        "parent shop.example.test -> other.test; with the domain below it: v2.www.shop.example.test"
    );
    let leaf = audited(&records, "domain.delete", "domain api.shop.example.test");
    assert_eq!(leaf["detail"], "deleted from under shop.example.test");
    let root = audited(&records, "domain.delete", "domain other.test");
    assert_eq!(
        root["detail"],
        "deleted from under example.test, recursively with the 2 domains below it: v2.www.shop.example.test, www.shop.example.test"
    );
    for below in [
        "domain www.shop.example.test",
        "domain v2.www.shop.example.test",
    ] {
        let record = audited(&records, "domain.delete", below);
        assert_eq!(
            record["detail"],
            "deleted with other.test, which was deleted recursively"
        );
    }

    // One log line each, naming who, what and which domain; never a key.
    let logs = server.logs();
    for (action, object) in [
        ("domain.delete", "api.shop.example.test"),
        ("domain.move", "www.shop.example.test"),
        ("domain.delete", "other.test"),
        ("domain.delete", "www.shop.example.test"),
        ("domain.delete", "v2.www.shop.example.test"),
    ] {
        let line = format!("admin-token {action} domain {object} ");
        assert_eq!(logs.matches(&line).count(), 1, "{line}\n{logs}");
    }
    assert!(!logs.contains("PRIVATE KEY") && !logs.contains("CRYPT:"));

    // The store kept it: after a restart the deleted domains stay deleted.
    server.stop();
    server.launch();
    assert_eq!(names(&server), ["example.test", "shop.example.test"]);
    assert_eq!(served_sha1(ws, Some("www.shop.example.test")), shop);
    assert_eq!(served_sha1(ws, Some("api.shop.example.test")), shop);
}

#[cfg(feature = "etcd")]
mod cluster {
    //! Two nodes on one etcd store: what one deletes or moves, the other serves.

    use super::add;
    use crate::serve_cluster::{start_node, try_served_sha1};
    use crate::support::etcd_cluster::EtcdCluster;
    use crate::support::run::TempDir;
    use std::time::{Duration, Instant};

    /// How long a change may take to reach the other node (about a second is usual; the
    /// margin is for a loaded 2-core machine).
    const DEADLINE: Duration = Duration::from_secs(60);

    /// Polls `node`'s listener until a handshake for `sni` gets `want`.
    fn wait_served(
        scratch: &std::path::Path,
        https: std::net::SocketAddr,
        sni: &str,
        want: &str,
        logs: &dyn Fn() -> String,
    ) {
        let deadline = Instant::now() + DEADLINE;
        let mut seen = None;
        while Instant::now() < deadline {
            seen = try_served_sha1(scratch, https, sni).or(seen);
            if seen.as_deref() == Some(want) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "{sni}: not served {want} within {DEADLINE:?} (last {seen:?})\n{}",
            logs()
        );
    }

    #[test]
    fn a_deletion_and_a_move_through_one_node_are_served_by_the_other() {
        let etcd = EtcdCluster::start(1);
        let dir = TempDir::new();
        let a = start_node(dir.path(), "a", &etcd, None);
        let b = start_node(dir.path(), "b", &etcd, Some(&a.server.data_dir));
        let logs = || format!("{}\n{}\n{}", a.server.logs(), b.server.logs(), etcd.logs());

        let master = add(&a.server, dir.path(), "example.test", None, true);
        let shop = add(&a.server, dir.path(), "shop.example.test", None, true);
        let other = add(&a.server, dir.path(), "other.test", None, true);
        add(
            &a.server,
            dir.path(),
            "www.shop.example.test",
            Some("shop.example.test"),
            false,
        );
        wait_served(dir.path(), b.https, "www.shop.example.test", &shop, &logs);

        // A move through B is served by A.
        b.server.domain_ok(&[
            "move",
            "www.shop.example.test",
            "--parent",
            "other.test",
            "--json",
        ]);
        wait_served(dir.path(), a.https, "www.shop.example.test", &other, &logs);

        // A recursive deletion through A is served by B: its names fall back to the master.
        a.server
            .domain_ok(&["delete", "other.test", "--recursive", "--json"]);
        wait_served(dir.path(), b.https, "www.shop.example.test", &shop, &logs);
        wait_served(dir.path(), b.https, "other.test", &master, &logs);
        let list = b.server.domain_ok(&["list", "--json"]);
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["example.test", "shop.example.test"]);
    }
}
