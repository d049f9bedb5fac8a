//! Cluster propagation: how long a certificate change made through one node takes to be presented
//! in the other node's TLS handshakes, beside how long etcd itself takes to notify a
//! watcher of a put, in one run on the same etcd.
//!
//! - certfleet: two nodes A and B of the real binary (`certfleet serve`, built by cargo
//!   in the bench profile) share the etcd in `CERTFLEET_ETCD_ENDPOINTS` and A's master key
//!   (copied into B's data directory before B starts), each with its own admin, HTTP and
//!   TLS listener on 127.0.0.1. A CA (`certfleet ca init`) and `BENCH_CHANGES` + 1 distinct
//!   leaves for one name (`certfleet cert issue`) are made beforehand and the domain is
//!   added on A. For each leaf (the first a warm-up, not counted) the bench sends
//!   `PUT /api/domains/NAME/certificate` to one node's admin API over a fresh HTTPS
//!   connection (what `domain set-cert` sends, with the node's admin token, its
//!   certificate pinned), and from the instant the node has answered it makes full TLS
//!   handshakes (rustls, no resumption) for the name with the other node's listener,
//!   back to back, until one presents the new leaf (its DER compared). The sample ends
//!   when that handshake is complete, so it includes one handshake. Changes alternate
//!   between A→B and B→A, half each.
//! - peer: etcd's own notification on the same etcd with `etcd-client` and no certfleet
//!   layer: one client puts a 2 KiB value (about the size of a stored domain record) on a
//!   key that a second client (its own connection) watches; the sample ends when the
//!   watch event arrives. One peer sample follows each certfleet change, so both see the
//!   same load.
//!
//! Three tables, each with the median, 90th percentile and maximum in milliseconds:
//! from the write sent (the request written once the admin connection's TLS handshake is
//! done; the put called) to the other side having it; from the write's answer to the
//! other side having it (negative for etcd when the event came before the put's answer,
//! which is the usual case); and the write itself, sent to answered. The ratio is
//! certfleet / etcd of the medians from the write sent: how many times etcd's bare
//! put-and-notify delay a certificate change takes to reach another node's handshakes.
//! (From the answer there is no ratio to take: etcd's median is at or below zero.) The
//! difference is certfleet's own work: on the writing node the bundle's checks, sealing,
//! the domain and audit writes and the answer; on the other node its watch, the changed
//! record decoded and unsealed, the tree changed in place and the SNI snapshot patched
//! for that domain (and its branch); and the one handshake that observes the change.
//!
//! `BENCH_DOMAINS=N` stores N domains (a master, groups of a thousand, the rest in
//! them; no certificates) in etcd before the nodes start, so that both nodes hold a
//! tree of that size while the changes are measured (a million: `BENCH_DOMAINS=1000000`).
//!
//! Run it with a throw-away etcd (the nodes use etcd's `certfleet/` prefix, which must be
//! empty at the start and is deleted at the end):
//!
//! ```text
//! eval "$(scripts/start-etcd)"
//! cargo bench -p certfleet --features etcd --bench cluster
//! scripts/start-etcd stop
//! ```
//!
//! `BENCH_CHANGES=N` sets the number of changes, 40 by default. `BENCH_CERTFLEET=PATH`
//! runs another certfleet binary than the one cargo built (to compare two builds in one
//! session, such as node start-up before and after a change). Without
//! `CERTFLEET_ETCD_ENDPOINTS` the bench says so and exits 0.

// A benchmark whose setup fails has nothing to measure: aborting with the reason is right.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use certfleet_pki::tls_verifier::danger::AnyChainVerifier;
use etcd_client::{Client, DeleteOptions, GetOptions, KvClient, Txn, TxnOp, WatchOptions};
use rustls::client::Resumption;
use rustls::crypto::aws_lc_rs as provider;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[path = "../common/admin_client.rs"]
mod admin_client;
mod etcd_peer;
mod nodes;
mod probe;
mod report;
mod seed;

use etcd_peer::*;
use nodes::*;
use probe::*;
use report::*;
use seed::*;

/// The domain whose certificate changes.
pub(crate) const NAME: &str = "bench.cluster.test";
/// The changes measured when `BENCH_CHANGES` is not set.
pub(crate) const DEFAULT_CHANGES: usize = 40;
/// How long a change may take to be seen before the bench gives up (the warm-up
/// includes the other node's first full read of a large tree).
pub(crate) const DEADLINE: Duration = Duration::from_secs(180);
/// The etcd prefix certfleet's nodes write under (the default namespace).
pub(crate) const CERTFLEET_PREFIX: &str = "certfleet/";
/// The size of the peer's values: about a stored domain record with its sealed bundle.
pub(crate) const PEER_VALUE_BYTES: usize = 2048;

fn main() {
    let Ok(endpoints) = std::env::var("CERTFLEET_ETCD_ENDPOINTS") else {
        println!(
            "cluster: CERTFLEET_ETCD_ENDPOINTS not set, skipped (start a throw-away etcd with \
             `eval \"$(scripts/start-etcd)\"`)"
        );
        return;
    };
    let endpoints: Vec<String> = endpoints
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    assert!(
        !endpoints.is_empty(),
        "CERTFLEET_ETCD_ENDPOINTS names no endpoint"
    );
    let changes: usize =
        match std::env::var("BENCH_CHANGES") {
            Ok(text) => text.parse().ok().filter(|&n| n >= 2).unwrap_or_else(|| {
                panic!("BENCH_CHANGES={text}: not a whole number of at least 2")
            }),
            Err(_) => DEFAULT_CHANGES,
        };
    let domains: usize = match std::env::var("BENCH_DOMAINS") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("BENCH_DOMAINS={text}: not a whole number")),
        Err(_) => 0,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let peer_prefix = format!("bench-cluster-{}/", std::process::id());
    let mut peer = runtime.block_on(EtcdPeer::connect(&endpoints, &peer_prefix));
    let held = runtime.block_on(peer.count(CERTFLEET_PREFIX));
    if held > 0 {
        println!(
            "cluster: the etcd at {} already holds {held} keys under `{CERTFLEET_PREFIX}`, which \
             the nodes would share and the bench deletes at the end: refused. Use a throw-away \
             etcd (`scripts/start-etcd stop; eval \"$(scripts/start-etcd)\"`).",
            endpoints.join(",")
        );
        std::process::exit(1);
    }

    let dir = tempfile::tempdir().unwrap();
    println!(
        "cluster propagation benchmark: {changes} changes of {NAME} among {domains} stored domains, etcd at {}; files in {}",
        endpoints.join(","),
        dir.path().display()
    );
    let made = Instant::now();
    let ca = dir.path().join("ca");
    certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "Cluster Bench Root",
        "--intermediate-cn",
        "Cluster Bench Issuing",
    ]);
    let leaves: Vec<Leaf> = (0..=changes)
        .map(|i| Leaf::issue(&ca, dir.path(), i))
        .collect();
    println!(
        "made a CA and {} leaves in {:.1} s",
        leaves.len(),
        made.elapsed().as_secs_f64()
    );

    // Kills the nodes and empties what the bench wrote in etcd, also on a panic.
    let mut cluster = Cluster {
        nodes: Vec::new(),
        endpoints: endpoints.clone(),
        prefixes: vec![CERTFLEET_PREFIX.to_owned(), peer_prefix],
    };
    if domains > 0 {
        let seeded = Instant::now();
        runtime.block_on(seed_domains(&endpoints, domains));
        println!(
            "stored {domains} domains in etcd in {:.1} s",
            seeded.elapsed().as_secs_f64()
        );
    }
    let started = Instant::now();
    cluster.nodes.push(Node::start(
        dir.path(),
        "a",
        &endpoints,
        None,
        startup_time(domains),
    ));
    let a_up = started.elapsed().as_secs_f64();
    let a_data = cluster.nodes[0].data_dir.clone();
    cluster.nodes.push(Node::start(
        dir.path(),
        "b",
        &endpoints,
        Some(&a_data),
        startup_time(domains),
    ));
    let both_up = started.elapsed().as_secs_f64();
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    println!(
        "nodes up in {both_up:.1} s (A ready after {a_up:.1} s, then B after {:.1} s): A \
         (admin {}, TLS {}), B (admin {}, TLS {})",
        both_up - a_up,
        a.admin,
        a.https,
        b.admin,
        b.https
    );
    let admin_a = Admin::new(a);
    let admin_b = Admin::new(b);
    let tls = handshake_config();
    admin_a.request("POST", "/api/domains", &serde_json::json!({ "name": NAME }));

    // The warm-up: B learns of the domain and serves a certificate for it.
    let (_, answered) = admin_a.set_cert(&leaves[0].pem);
    let warm = wait_served(&tls, &cluster, 1, &leaves[0].der, answered);
    println!(
        "warm-up: B served the first leaf {:.2} s after A answered",
        (warm.at - answered).as_secs_f64()
    );

    // Milliseconds per change: from the write sent (A→B, B→A) and from its answer.
    let (mut a_to_b, mut b_to_a, mut after_answer) = (Vec::new(), Vec::new(), Vec::new());
    let (mut set_cert, mut last_handshake) = (Vec::new(), Vec::new());
    let (mut first_try, mut handshakes) = (0, 0);
    let (mut etcd_sent, mut etcd_answered, mut etcd_put) = (Vec::new(), Vec::new(), Vec::new());
    for (index, leaf) in leaves.iter().enumerate().skip(1) {
        // Odd changes go through A and are awaited on B, even ones the other way.
        let (admin, to, samples) = if index % 2 == 1 {
            (&admin_a, 1, &mut a_to_b)
        } else {
            (&admin_b, 0, &mut b_to_a)
        };
        let (sent, answered) = admin.set_cert(&leaf.pem);
        let served = wait_served(&tls, &cluster, to, &leaf.der, answered);
        samples.push(ms(served.at - sent));
        after_answer.push(ms(served.at - answered));
        set_cert.push(ms(answered - sent));
        last_handshake.push(ms(served.last_handshake));
        first_try += usize::from(served.handshakes == 1);
        handshakes += served.handshakes;

        let watched = runtime.block_on(peer.sample(index));
        etcd_sent.push(ms(watched.arrived - watched.sent));
        etcd_answered.push(signed_ms(watched.arrived, watched.answered));
        etcd_put.push(ms(watched.answered - watched.sent));
    }

    let mut both: Vec<f64> = a_to_b.iter().chain(&b_to_a).copied().collect();
    header("write sent → seen by the other side");
    row("certfleet A→B (B presents the leaf)", &mut a_to_b);
    row("certfleet B→A (A presents the leaf)", &mut b_to_a);
    let certfleet = row("certfleet, both ways", &mut both);
    let etcd = row("peer: etcd put → watch event", &mut etcd_sent);
    println!("ratio certfleet / etcd (medians): {:.1}", certfleet / etcd);
    header("write answered → seen by the other side");
    row("certfleet, both ways", &mut after_answer);
    row("peer: etcd (negative: event first)", &mut etcd_answered);
    header("the write itself: sent → answered");
    row("certfleet set-cert (HTTPS, one node)", &mut set_cert);
    row("peer: etcd put", &mut etcd_put);
    let early = etcd_answered.iter().filter(|&&t| t < 0.0).count();
    println!(
        "the first handshake after the answer presented the new leaf for {first_try} of {changes} \
         changes ({handshakes} handshakes in all, the last of each taking {:.2} ms, median); \
         {early} of {changes} etcd events arrived before the put's answer",
        median(&mut last_handshake),
    );
    drop(cluster);
    runtime.block_on(peer.stop());
}
