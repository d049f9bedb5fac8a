//! A cluster: two `certfleet serve` nodes (the real binary) sharing one master
//! key and a real three-member etcd cluster (`[store] backend = "etcd"`), judged by
//! openssl handshakes against each node's own listener.
//!
//! - A domain and its certificate (a bundle from a test CA) set through node A's admin
//!   API are served by node B, and a renewal set through B is served by A; each
//!   propagation time is measured and printed, within a 10 s deadline, and the chain B
//!   serves verifies for the name against the CA's root.
//! - With the etcd leader SIGKILLed (two members of three left, a quorum), a change on A
//!   is still served by B.
//! - With node A SIGKILLed, B still serves every domain and `domain list --json` against
//!   B lists them all; a node C started then (the etcd member still down) serves them
//!   from its first handshake.
//! - What etcd holds, read through its JSON gateway, and every file in the members'
//!   data directories hold no private key in clear: the domains' PEMs are `CRYPT:`
//!   sealed.
//!
//! Compiled only with the binary's `etcd` feature (`--features certfleet/etcd`).

use crate::support::etcd_cluster::EtcdCluster;
use crate::support::openssl::sha1_fingerprint;
use crate::support::pki::{Ca, Leaf};
use crate::support::run::{arg, describe, stdout_json, TempDir};
use crate::support::serve::{s_client, ServeConfig, Server};
use base64::Engine as _;
use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a change may take to be served by the other node before the test fails
/// (about a second is promised; the margin is for a loaded 2-core machine).
const PROPAGATION_DEADLINE: Duration = Duration::from_secs(10);

/// The role of each node's one listener.
const ROLE: &str = "ws";

/// One certfleet node: its server and its HTTPS listener (also used by the domain
/// lifecycle's cluster test).
pub(crate) struct Node {
    pub(crate) name: &'static str,
    pub(crate) server: Server,
    pub(crate) https: SocketAddr,
}

/// Starts a node under `parent/name` on `cluster`; with `master_key_of`, that data
/// directory's `master.key` is copied (0600, in a 0700 directory) into the new node's
/// data directory first, so that both nodes open each other's sealed values.
pub(crate) fn start_node(
    parent: &Path,
    name: &'static str,
    cluster: &EtcdCluster,
    master_key_of: Option<&Path>,
) -> Node {
    let dir = parent.join(name);
    fs::create_dir_all(&dir).unwrap();
    let mut config = ServeConfig::new(&dir);
    let https = config.listener(ROLE, None, None);
    config.append(&cluster.store_toml());
    if let Some(source) = master_key_of {
        fs::create_dir_all(&config.data_dir).unwrap();
        fs::set_permissions(&config.data_dir, fs::Permissions::from_mode(0o700)).unwrap();
        let target = config.data_dir.join("master.key");
        fs::copy(source.join("master.key"), &target).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let server = config.start();
    Node {
        name,
        server,
        https,
    }
}

/// The SHA-1 fingerprint of the leaf a handshake for `sni` gets at `addr` (openssl
/// s_client), or None when the handshake gave no certificate.
pub(crate) fn try_served_sha1(scratch: &Path, addr: SocketAddr, sni: &str) -> Option<String> {
    let out = s_client(addr, Some(sni), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    let begin = "-----BEGIN CERTIFICATE-----";
    let end = "-----END CERTIFICATE-----";
    let from = text.find(begin)?;
    let to = text[from..].find(end)? + from + end.len();
    let pem = scratch.join("served.pem");
    fs::write(&pem, format!("{}\n", &text[from..to])).unwrap();
    Some(sha1_fingerprint(&pem))
}

/// Polls `node` with handshakes for `sni` until it serves the certificate `want`
/// (a SHA-1 fingerprint); returns how long that took from `since`. Fails after
/// [`PROPAGATION_DEADLINE`], naming what was served meanwhile.
fn wait_served(
    scratch: &Path,
    nodes: &[&Node],
    node: &Node,
    sni: &str,
    want: &str,
    since: Instant,
    what: &str,
) -> Duration {
    let deadline = since + PROPAGATION_DEADLINE;
    let mut seen = None;
    loop {
        seen = try_served_sha1(scratch, node.https, sni).or(seen);
        if seen.as_deref() == Some(want) {
            let took = since.elapsed();
            println!(
                "propagation: {what}: node {} served it {} ms after the change was acknowledged",
                node.name,
                took.as_millis()
            );
            return took;
        }
        if Instant::now() > deadline {
            let logs: String = nodes
                .iter()
                .map(|n| format!("=== node {} ===\n{}", n.name, n.server.logs()))
                .collect();
            panic!(
                "{what}: node {} did not serve {want} for {sni} within {} s (last served: {seen:?})\n{logs}",
                node.name,
                PROPAGATION_DEADLINE.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `domain set-cert NAME BUNDLE --json` on `node`; the instant it returned.
fn set_cert(node: &Node, name: &str, leaf: &Leaf) -> Instant {
    let started = Instant::now();
    let set = domain_ok(node, &["set-cert", name, arg(&leaf.merged()), "--json"]);
    let acknowledged = Instant::now();
    assert_eq!(
        set["domain"]["certificate"]["sha1_thumbprint"],
        sha1_fingerprint(&leaf.crt()).as_str(),
        "{set}"
    );
    println!(
        "set-cert {name} on node {} took {} ms",
        node.name,
        (acknowledged - started).as_millis()
    );
    acknowledged
}

/// openssl verifies the chain `node` serves for `sni` against `ca`'s root, with the
/// host name checked.
fn assert_chain_verifies(node: &Node, sni: &str, ca: &Ca) {
    let root = ca.root();
    let out = s_client(
        node.https,
        Some(sni),
        &[
            "-CAfile",
            arg(&root),
            "-verify_hostname",
            sni,
            "-verify_return_error",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Verify return code: 0 (ok)"),
        "node {}'s chain for {sni} does not verify against the CA root\n{}",
        node.name,
        describe(&out)
    );
}

/// `domain resolve SNI --role ws --json` on `node` names `domain` and `sha1`.
fn assert_resolves(node: &Node, sni: &str, domain: &str, sha1: &str) {
    let resolved = domain_ok(node, &["resolve", sni, "--role", ROLE, "--json"]);
    assert_eq!(resolved["source"], "domain", "{}: {resolved}", node.name);
    assert_eq!(resolved["domain"], domain, "{}: {resolved}", node.name);
    assert_eq!(
        resolved["sha1_thumbprint"], sha1,
        "{}: {resolved}",
        node.name
    );
}

/// `certfleet domain ARGS...` against `node`, which must succeed: its `--json` output.
/// A failure shows the node's log.
fn domain_ok(node: &Node, args: &[&str]) -> serde_json::Value {
    let out = node.server.domain(args);
    assert!(
        out.status.success(),
        "domain {args:?} on node {} failed\n{}\n=== node {} ===\n{}",
        node.name,
        describe(&out),
        node.name,
        node.server.logs()
    );
    stdout_json(&out)
}

/// The names `domain list --json` on `node` answers, in its order.
fn listed_names(node: &Node) -> Vec<String> {
    let list = domain_ok(node, &["list", "--json"]);
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The private key's PEM body (base64, one string) and its DER bytes.
fn key_forms(leaf: &Leaf) -> (String, Vec<u8>) {
    let pem = fs::read_to_string(leaf.key()).unwrap();
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(&body)
        .unwrap();
    (body, der)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Nothing etcd holds, nor any file in its members' data directories, holds a private
/// key of `leaves` in clear; each domain of `domains` is stored with its PEM sealed.
fn assert_no_key_in_clear(cluster: &EtcdCluster, domains: &[&str], leaves: &[&Leaf]) {
    let entries = cluster.all_entries();
    println!("etcd holds {} keys", entries.len());
    for name in domains {
        let key = format!("certfleet/kv/domains/{name}");
        let (_, value) = entries
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .unwrap_or_else(|| panic!("no etcd key {key}"));
        let stored: serde_json::Value = serde_json::from_slice(value).unwrap();
        let sealed = stored["certificate_sealed"].as_str().unwrap_or_default();
        assert!(
            sealed.starts_with("CRYPT:"),
            "{key}: the certificate is not sealed: {stored}"
        );
    }
    // The key in clear, in each form it could take: PEM armour, PEM body, DER.
    let forms: Vec<(String, Vec<u8>)> = leaves.iter().map(|leaf| key_forms(leaf)).collect();
    for (key, value) in &entries {
        let key = String::from_utf8_lossy(key);
        assert!(
            !contains(value, b"PRIVATE KEY"),
            "etcd key {key} holds a PEM private key"
        );
        for (body, der) in &forms {
            assert!(
                !contains(value, &body.as_bytes()[..64]),
                "etcd key {key} holds a private key's PEM body"
            );
            assert!(
                !contains(value, der),
                "etcd key {key} holds a private key's DER"
            );
        }
    }
    // On disk: write-ahead logs, snapshots and the database hold the values verbatim
    // (the field name below shows the scan reads them), never a key.
    let files = cluster.data_files();
    assert!(!files.is_empty(), "no etcd data files");
    let mut field_seen = false;
    for file in &files {
        let bytes = fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        field_seen |= text.contains("certificate_sealed");
        assert!(
            !text.contains("PRIVATE KEY"),
            "{} holds a PEM private key",
            file.display()
        );
        for (body, _) in &forms {
            assert!(
                !text.contains(&body[..64]),
                "{} holds a private key's PEM body",
                file.display()
            );
        }
    }
    assert!(
        field_seen,
        "no etcd data file holds a stored domain: the on-disk scan saw nothing"
    );
    println!(
        "no private key in clear in {} etcd keys nor in {} etcd data files",
        entries.len(),
        files.len()
    );
}

#[test]
fn a_change_on_one_node_is_served_by_the_other_through_etcd_failures() {
    let test_started = Instant::now();
    let dir = TempDir::new();
    let scratch = dir.join("scratch");
    fs::create_dir_all(&scratch).unwrap();
    let mut cluster = EtcdCluster::start(3);

    let ca = Ca::new(dir.path(), "Cluster CA");
    let leaves = dir.join("leaves");
    fs::create_dir_all(&leaves).unwrap();
    let alpha = "alpha.cluster.test";
    let gamma = "gamma.cluster.test";
    let alpha_1 = ca.leaf(&leaves, alpha, &[], 30, "-1");
    let alpha_2 = ca.leaf(&leaves, alpha, &[], 30, "-2");
    let gamma_1 = ca.leaf(&leaves, gamma, &[], 30, "-1");
    let sha1 = |leaf: &Leaf| sha1_fingerprint(&leaf.crt());
    let (alpha_1_sha1, alpha_2_sha1, gamma_1_sha1) =
        (sha1(&alpha_1), sha1(&alpha_2), sha1(&gamma_1));

    // Node A makes the master key; B starts with a copy of it.
    let node_a = start_node(dir.path(), "a", &cluster, None);
    let node_b = start_node(dir.path(), "b", &cluster, Some(&node_a.server.data_dir));
    assert_eq!(
        fs::read(node_a.server.data_dir.join("master.key")).unwrap(),
        fs::read(node_b.server.data_dir.join("master.key")).unwrap(),
        "B must keep the master key it was given"
    );
    for node in [&node_a, &node_b] {
        assert!(
            listed_names(node).is_empty(),
            "node {} starts with domains",
            node.name
        );
    }
    let b_default =
        try_served_sha1(&scratch, node_b.https, alpha).expect("B serves no certificate");
    assert_ne!(b_default, alpha_1_sha1);
    let both = [&node_a, &node_b];

    // 1. A domain and its certificate set on A are served by B.
    domain_ok(&node_a, &["add", alpha, "--json"]);
    let acknowledged = set_cert(&node_a, alpha, &alpha_1);
    let first = wait_served(
        &scratch,
        &both,
        &node_b,
        alpha,
        &alpha_1_sha1,
        acknowledged,
        "set-cert on A",
    );
    assert_eq!(
        try_served_sha1(&scratch, node_a.https, alpha).as_deref(),
        Some(alpha_1_sha1.as_str()),
        "A serves what was set on it"
    );
    assert_chain_verifies(&node_b, alpha, &ca);
    assert_resolves(&node_b, alpha, alpha, &alpha_1_sha1);
    assert_eq!(listed_names(&node_b), [alpha]);

    // 2. A renewal set on B is served by A.
    let acknowledged = set_cert(&node_b, alpha, &alpha_2);
    let second = wait_served(
        &scratch,
        &both,
        &node_a,
        alpha,
        &alpha_2_sha1,
        acknowledged,
        "set-cert on B",
    );
    assert_chain_verifies(&node_a, alpha, &ca);
    assert_resolves(&node_a, alpha, alpha, &alpha_2_sha1);

    // 3. With the etcd leader killed, a change on A is still served by B.
    let leader = cluster.leader();
    cluster.kill(leader);
    println!(
        "killed etcd member {leader} (the leader) of {}",
        cluster.size()
    );
    // A write proposed at the instant the leader dies waits for etcd's own proposal
    // timeout; the change is made once the survivors have elected a new leader.
    let elected = cluster.wait_healthy_survivors(Duration::from_secs(20));
    println!(
        "the {} surviving etcd members answered /health true {} ms after the kill",
        cluster.size() - 1,
        elected.as_millis()
    );
    let add_started = Instant::now();
    domain_ok(&node_a, &["add", gamma, "--json"]);
    println!(
        "domain add {gamma} on node A with an etcd member down took {} ms",
        add_started.elapsed().as_millis()
    );
    let acknowledged = set_cert(&node_a, gamma, &gamma_1);
    let third = wait_served(
        &scratch,
        &both,
        &node_b,
        gamma,
        &gamma_1_sha1,
        acknowledged,
        "set-cert on A, etcd leader killed",
    );
    assert_chain_verifies(&node_b, gamma, &ca);
    assert_resolves(&node_b, gamma, gamma, &gamma_1_sha1);

    // 4. With node A killed, B still serves everything and lists every domain.
    drop(node_a); // Server's Drop: SIGKILL.
    println!("killed node A");
    for (sni, want) in [(alpha, &alpha_2_sha1), (gamma, &gamma_1_sha1)] {
        assert_eq!(
            try_served_sha1(&scratch, node_b.https, sni).as_deref(),
            Some(want.as_str()),
            "B after A was killed, {sni}"
        );
        assert_chain_verifies(&node_b, sni, &ca);
    }
    assert_eq!(listed_names(&node_b), [alpha, gamma]);
    let list = domain_ok(&node_b, &["list", "--json"]);
    assert!(!list.to_string().contains("PRIVATE KEY"), "{list}");

    // 5. A node started now (the etcd member still down) serves every domain at once.
    let node_c = start_node(dir.path(), "c", &cluster, Some(&node_b.server.data_dir));
    for (sni, want) in [(alpha, &alpha_2_sha1), (gamma, &gamma_1_sha1)] {
        assert_eq!(
            try_served_sha1(&scratch, node_c.https, sni).as_deref(),
            Some(want.as_str()),
            "a node started after the changes, {sni}"
        );
    }
    assert_eq!(listed_names(&node_c), [alpha, gamma]);

    // 6. No private key in clear in etcd.
    assert_no_key_in_clear(&cluster, &[alpha, gamma], &[&alpha_1, &alpha_2, &gamma_1]);

    println!(
        "propagation times: {} ms, {} ms, {} ms (etcd leader killed); whole test {} s",
        first.as_millis(),
        second.as_millis(),
        third.as_millis(),
        test_started.elapsed().as_secs()
    );
}
