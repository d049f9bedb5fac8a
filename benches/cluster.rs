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
//! `BENCH_CHANGES=N` sets the number of changes, 40 by default. Without
//! `CERTFLEET_ETCD_ENDPOINTS` the bench says so and exits 0.

// A benchmark whose setup fails has nothing to measure: aborting with the reason is right.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use certfleet_pki::tls_verifier::danger::AnyChainVerifier;
use certfleet_pki::tls_verifier::HandshakeOnlyVerifier;
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

/// The domain whose certificate changes.
const NAME: &str = "bench.cluster.test";
/// The changes measured when `BENCH_CHANGES` is not set.
const DEFAULT_CHANGES: usize = 40;
/// How long a change may take to be seen before the bench gives up (the warm-up
/// includes the other node's first full read of a large tree).
const DEADLINE: Duration = Duration::from_secs(180);
/// The etcd prefix certfleet's nodes write under (the default namespace).
const CERTFLEET_PREFIX: &str = "certfleet/";
/// The size of the peer's values: about a stored domain record with its sealed bundle.
const PEER_VALUE_BYTES: usize = 2048;

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
    let a_data = cluster.nodes[0].data_dir.clone();
    cluster.nodes.push(Node::start(
        dir.path(),
        "b",
        &endpoints,
        Some(&a_data),
        startup_time(domains),
    ));
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    println!(
        "nodes up in {:.1} s: A (admin {}, TLS {}), B (admin {}, TLS {})",
        started.elapsed().as_secs_f64(),
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
    wait_served(&tls, &cluster, 1, &leaves[0].der, answered);

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

/// One leaf of the CA for [`NAME`]: its merged bundle (what `set-cert` takes) and DER.
struct Leaf {
    pem: String,
    der: Vec<u8>,
}

impl Leaf {
    /// `certfleet cert issue --ca CA --cn NAME --out DIR/leaf-INDEX` (ECDSA P-256).
    fn issue(ca: &Path, dir: &Path, index: usize) -> Leaf {
        let prefix = dir.join(format!("leaf-{index}"));
        certfleet(&[
            "cert",
            "issue",
            "--ca",
            arg(ca),
            "--cn",
            NAME,
            "--days",
            "30",
            "--out",
            arg(&prefix),
        ]);
        let file = |ending: &str| {
            let mut path = prefix.clone().into_os_string();
            path.push(ending);
            PathBuf::from(path)
        };
        let der = CertificateDer::from_pem_file(file(".crt")).unwrap();
        Leaf {
            pem: fs::read_to_string(file(".pem")).unwrap(),
            der: der.as_ref().to_vec(),
        }
    }
}

/// A path as a command-line argument.
fn arg(path: &Path) -> &str {
    path.to_str().expect("a temporary path that is UTF-8")
}

/// Runs `certfleet ARGS`, which must succeed.
fn certfleet(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run certfleet");
    assert!(
        out.status.success(),
        "certfleet {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One running `certfleet serve`.
struct Node {
    name: &'static str,
    child: Child,
    dir: PathBuf,
    data_dir: PathBuf,
    admin: SocketAddr,
    https: SocketAddr,
}

impl Node {
    /// Starts node `name` under `parent/name` on the etcd at `endpoints`, with the master
    /// key of the data directory `master_key_of` when given, and waits until it is ready.
    fn start(
        parent: &Path,
        name: &'static str,
        endpoints: &[String],
        master_key_of: Option<&Path>,
        startup: Duration,
    ) -> Node {
        let dir = parent.join(name);
        let data_dir = dir.join("data");
        fs::create_dir_all(&dir).unwrap();
        // Held together while picking, so that the three ports differ.
        let held: Vec<TcpListener> = (0..3)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let [admin, http, https] = [0, 1, 2].map(|i| held[i].local_addr().unwrap());
        drop(held);
        let endpoints: Vec<String> = endpoints.iter().map(|e| format!("{e:?}")).collect();
        let config = dir.join("certfleet.toml");
        fs::write(
            &config,
            format!(
                "data_dir = {:?}\n\n[admin]\nlisten = \"{admin}\"\n\n[http]\nlisten = \"{http}\"\n\n\
                 [[listener]]\nrole = \"ws\"\nhttps = \"{https}\"\n\n\
                 [store]\nbackend = \"etcd\"\netcd_endpoints = [{}]\n",
                arg(&data_dir),
                endpoints.join(", ")
            ),
        )
        .unwrap();
        if let Some(source) = master_key_of {
            fs::create_dir_all(&data_dir).unwrap();
            fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o700)).unwrap();
            let target = data_dir.join("master.key");
            fs::copy(source.join("master.key"), &target).unwrap();
            fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(["serve", "--config", arg(&config)])
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("serve.out")).unwrap())
            .stderr(fs::File::create(dir.join("serve.err")).unwrap())
            .spawn()
            .expect("cannot start certfleet serve");
        let mut node = Node {
            name,
            child,
            dir,
            data_dir,
            admin,
            https,
        };
        let deadline = Instant::now() + startup;
        let ready = |node: &Node| {
            node.data_dir.join("admin.token").exists()
                && node.data_dir.join("default.pem").exists()
                && [admin, http, https]
                    .iter()
                    .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
        };
        while !ready(&node) {
            if let Some(status) = node.child.try_wait().unwrap() {
                panic!("node {name} exited early ({status})\n{}", node.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "node {name} was not ready within {} s\n{}",
                startup.as_secs(),
                node.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        node
    }

    /// The last lines of the node's output.
    fn log_tail(&self) -> String {
        let mut text = String::new();
        for stream in ["serve.out", "serve.err"] {
            let log = fs::read_to_string(self.dir.join(stream)).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(20)..];
            text.push_str(&format!(
                "--- node {} {stream} ---\n{}\n",
                self.name,
                tail.join("\n")
            ));
        }
        text
    }
}

/// The nodes and what the bench wrote in etcd: on drop, also when a panic unwinds, the
/// nodes are killed and the prefixes deleted.
struct Cluster {
    nodes: Vec<Node>,
    endpoints: Vec<String>,
    prefixes: Vec<String>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        for node in &mut self.nodes {
            let _ = node.child.kill();
            let _ = node.child.wait();
            if panicking {
                eprintln!("{}", node.log_tail());
            }
        }
        // A runtime of its own on a thread of its own: drop may run inside another's.
        let (endpoints, prefixes) = (&self.endpoints, &self.prefixes);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let Ok(mut client) = Client::connect(endpoints, None).await else {
                        eprintln!("cluster: cannot reach etcd to delete {prefixes:?}");
                        return;
                    };
                    for prefix in prefixes {
                        let everything = DeleteOptions::new().with_prefix();
                        if let Err(err) = client.delete(prefix.as_str(), Some(everything)).await {
                            eprintln!("cluster: deleting {prefix} in etcd: {err}");
                        }
                    }
                });
            });
        });
    }
}

/// A node's admin API: its address, token and pinned certificate.
struct Admin {
    addr: SocketAddr,
    token: String,
    tls: Arc<ClientConfig>,
}

impl Admin {
    fn new(node: &Node) -> Admin {
        let token = fs::read_to_string(node.data_dir.join("admin.token")).unwrap();
        let pinned = CertificateDer::pem_file_iter(node.data_dir.join("default.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let provider = Arc::new(provider::default_provider());
        let verifier = HandshakeOnlyVerifier::pinned(
            pinned,
            "not the admin certificate in DATA_DIR/default.pem",
            Arc::clone(&provider),
        );
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Admin {
            addr: node.admin,
            token: token.trim().to_owned(),
            tls: Arc::new(tls),
        }
    }

    /// `PUT /api/domains/NAME/certificate` with `pem`; see [`Admin::request`].
    fn set_cert(&self, pem: &str) -> (Instant, Instant) {
        let path = format!("/api/domains/{NAME}/certificate");
        self.request("PUT", &path, &serde_json::json!({ "pem": pem }))
    }

    /// One HTTP/1.1 request with a JSON body on a connection of its own, which must be
    /// answered with success: the instants the request was sent (the TLS handshake done
    /// first) and the whole answer read.
    fn request(&self, method: &str, path: &str, body: &serde_json::Value) -> (Instant, Instant) {
        let body = body.to_string();
        let tcp = TcpStream::connect(self.addr).unwrap();
        tcp.set_nodelay(true).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let name = ServerName::from(self.addr.ip());
        let conn = ClientConnection::new(Arc::clone(&self.tls), name).unwrap();
        let mut stream = StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock).unwrap();
        }
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Accept: application/json\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            self.token,
            body.len()
        );
        let sent = Instant::now();
        stream.write_all(request.as_bytes()).unwrap();
        stream.flush().unwrap();
        let mut answer = Vec::new();
        let mut chunk = [0_u8; 16 * 1024];
        let complete = loop {
            if let Some(length) = complete_length(&answer) {
                if answer.len() >= length {
                    break Instant::now();
                }
            }
            match stream.read(&mut chunk) {
                Ok(0) => break Instant::now(),
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                    break Instant::now()
                }
                Err(err) => panic!("{method} {path} on {}: {err}", self.addr),
            }
        };
        stream.conn.send_close_notify();
        // The answer is in; the server may have closed already.
        let _ = stream.conn.complete_io(&mut stream.sock);
        let text = String::from_utf8_lossy(&answer);
        let status = text.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            status == "200" || (method == "POST" && status == "201"),
            "{method} {path} on {} was answered: {text}",
            self.addr
        );
        (sent, complete)
    }
}

/// The length of a whole answer (headers and body) once its headers are in, when they
/// give a Content-Length.
fn complete_length(answer: &[u8]) -> Option<usize> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&answer[..end]);
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    })?;
    Some(end + length)
}

/// A full-handshake client that accepts whatever leaf the server presents (the
/// handshake signature still proves the server holds its key): the bench compares it.
fn handshake_config() -> Arc<ClientConfig> {
    let provider = Arc::new(provider::default_provider());
    let verifier = AnyChainVerifier::new(Arc::clone(&provider));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.resumption = Resumption::disabled();
    Arc::new(config)
}

/// One full handshake for [`NAME`] with `addr`: the leaf it presented.
fn served_leaf(config: &Arc<ClientConfig>, addr: SocketAddr) -> Result<Vec<u8>, String> {
    let name = ServerName::try_from(NAME).map_err(|e| e.to_string())?;
    let mut conn = ClientConnection::new(Arc::clone(config), name).map_err(|e| e.to_string())?;
    let mut tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| format!("handshake: {e}"))?;
    }
    let leaf = conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or("the server sent no certificate")?
        .as_ref()
        .to_vec();
    conn.send_close_notify();
    // The leaf is what counts; the server may already be gone.
    let _ = conn.complete_io(&mut tcp);
    Ok(leaf)
}

/// What waiting for a change on a node saw.
struct Served {
    /// When the first handshake presenting the change ended.
    at: Instant,
    /// Handshakes made, that one included.
    handshakes: u64,
    /// How long that last handshake took: the resolution of `took`.
    last_handshake: Duration,
}

/// Handshakes with node `to` of `cluster`, back to back, until one presents `want`.
fn wait_served(
    config: &Arc<ClientConfig>,
    cluster: &Cluster,
    to: usize,
    want: &[u8],
    since: Instant,
) -> Served {
    let node = &cluster.nodes[to];
    let mut handshakes = 0;
    let mut last_error = None;
    loop {
        let started = Instant::now();
        let leaf = served_leaf(config, node.https);
        let ended = Instant::now();
        handshakes += 1;
        match leaf {
            Ok(leaf) if leaf == want => {
                return Served {
                    at: ended,
                    handshakes,
                    last_handshake: ended - started,
                }
            }
            Ok(_) => {}
            Err(err) => last_error = Some(err),
        }
        assert!(
            ended - since < DEADLINE,
            "node {} did not present the new leaf within {} s ({handshakes} handshakes, last \
             error {last_error:?})",
            node.name,
            DEADLINE.as_secs()
        );
    }
}

/// One put of the peer and its watch event.
struct Watched {
    /// The put was sent.
    sent: Instant,
    /// Its answer arrived.
    answered: Instant,
    /// Its watch event arrived at the other client.
    arrived: Instant,
}

/// etcd's own notification: a writer and a watcher, each its own client.
struct EtcdPeer {
    kv: KvClient,
    key: String,
    events: mpsc::UnboundedReceiver<(Instant, Vec<u8>)>,
    watcher: tokio::task::JoinHandle<()>,
}

impl EtcdPeer {
    /// Connects both clients and starts watching `PREFIX` + `key`.
    async fn connect(endpoints: &[String], prefix: &str) -> EtcdPeer {
        let writer = Client::connect(endpoints, None).await.unwrap();
        let mut watching = Client::connect(endpoints, None).await.unwrap();
        let key = format!("{prefix}key");
        let mut stream = watching
            .watch(key.as_str(), Some(WatchOptions::new()))
            .await
            .unwrap();
        let created = stream.message().await.unwrap().expect("no watch answer");
        assert!(created.created(), "the watch was not created");
        let (sender, events) = mpsc::unbounded_channel();
        let watcher = tokio::spawn(async move {
            // The client lives as long as its watch.
            let _client = watching;
            while let Ok(Some(answer)) = stream.message().await {
                let arrived = Instant::now();
                for event in answer.events() {
                    if let Some(kv) = event.kv() {
                        let _ = sender.send((arrived, kv.value().to_vec()));
                    }
                }
            }
        });
        EtcdPeer {
            kv: writer.kv_client(),
            key,
            events,
            watcher,
        }
    }

    /// How many keys start with `prefix`.
    async fn count(&mut self, prefix: &str) -> i64 {
        let options = GetOptions::new().with_prefix().with_count_only();
        self.kv.get(prefix, Some(options)).await.unwrap().count()
    }

    /// Puts value `index` and waits for its event.
    async fn sample(&mut self, index: usize) -> Watched {
        let mut value = format!("{index:08}").into_bytes();
        value.resize(PEER_VALUE_BYTES, b'.');
        let sent = Instant::now();
        self.kv
            .put(self.key.as_str(), value.clone(), None)
            .await
            .unwrap();
        let answered = Instant::now();
        loop {
            let event = tokio::time::timeout(DEADLINE, self.events.recv()).await;
            let (arrived, seen) = event
                .expect("no etcd watch event within the deadline")
                .expect("the etcd watch ended");
            if seen == value {
                return Watched {
                    sent,
                    answered,
                    arrived,
                };
            }
        }
    }

    async fn stop(self) {
        self.watcher.abort();
        let _ = self.watcher.await;
    }
}

/// How long a node may take to load `domains` domains and be ready.
fn startup_time(domains: usize) -> Duration {
    Duration::from_secs(60 + (domains / 5_000) as u64)
}

/// The domains stored before the nodes start: a master `fleet.test`, groups
/// `gK.fleet.test` of a thousand each and the domains `dI.gK.fleet.test` in them, no
/// certificates (records as a node stores them, without a sealed bundle), written
/// straight to etcd in transactions of 128 puts. [`NAME`] is added later under the
/// master, beside them.
async fn seed_domains(endpoints: &[String], domains: usize) {
    const GROUP: usize = 1000;
    const TXN_OPS: usize = 128;
    let mut kv = Client::connect(endpoints, None).await.unwrap().kv_client();
    let key = |name: &str| format!("{CERTFLEET_PREFIX}kv/domains/{name}");
    let record = |name: &str, parent: Option<&str>| {
        serde_json::json!({ "name": name, "parent": parent }).to_string()
    };
    let mut ops = vec![TxnOp::put(
        key("fleet.test"),
        record("fleet.test", None),
        None,
    )];
    let groups = domains.div_ceil(GROUP);
    for group in 0..groups {
        let name = format!("g{group}.fleet.test");
        ops.push(TxnOp::put(
            key(&name),
            record(&name, Some("fleet.test")),
            None,
        ));
    }
    let leaves = domains.saturating_sub(1 + groups);
    for leaf in 0..leaves {
        let parent = format!("g{}.fleet.test", leaf % groups.max(1));
        let name = format!("d{leaf}.{parent}");
        ops.push(TxnOp::put(key(&name), record(&name, Some(&parent)), None));
    }
    for chunk in ops.chunks(TXN_OPS) {
        kv.txn(Txn::new().and_then(chunk.to_vec())).await.unwrap();
    }
}

/// Milliseconds of `d`.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Milliseconds from `earlier` to `later`, negative when `later` came first.
fn signed_ms(later: Instant, earlier: Instant) -> f64 {
    match later.checked_duration_since(earlier) {
        Some(d) => ms(d),
        None => -ms(earlier - later),
    }
}

/// The median of `samples` (sorting them).
fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// The head of a table of [`row`]s.
fn header(title: &str) {
    println!(
        "\n{title:<40} {:>7} {:>10} {:>8} {:>8} {:>8}",
        "samples", "median ms", "p90 ms", "p99 ms", "max ms"
    );
}

/// One row of a table: count, median, 90th and 99th percentiles (nearest rank) and maximum, in
/// milliseconds; returns the median.
fn row(label: &str, samples: &mut [f64]) -> f64 {
    let mid = median(samples);
    let n = samples.len();
    let p90 = samples[(n * 9).div_ceil(10).max(1) - 1];
    let p99 = samples[(n * 99).div_ceil(100).max(1) - 1];
    let max = samples[n - 1];
    println!("{label:<40} {n:>7} {mid:>10.2} {p90:>8.2} {p99:>8.2} {max:>8.2}");
    mid
}
