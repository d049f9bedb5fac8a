//! Certificates change under load without a restart: while
//! client threads make full TLS handshakes without pause, 100 changes are made, 50
//! through `certfleet domain set-cert` against the running server and 50 by rewriting
//! the listener's certdir the way an administrator does (two plain writes, key first,
//! sometimes with a pause between them long enough for the watcher to see the new key
//! beside the old certificate). After each change, handshakes are polled until the new
//! certificate is served. Every handshake verifies the chain and the name against the
//! internal CA, so a mismatched pair (the signature fails) or a certificate dropped
//! mid-replacement (the default one is not from that CA) counts as a failure; there must
//! be none. The delays are printed, not judged (timings belong in docs/BENCHMARKS.md).

use crate::support::openssl::sha256_fingerprint;
use crate::support::pki::{Ca, Leaf};
use crate::support::run::{arg, assert_ok, TempDir};
use crate::support::serve::ServeConfig;
use crate::support::tls_client::HandshakeClient;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The domain whose certificate `set-cert` replaces.
const DOMAIN: &str = "api.example.test";
/// A name no domain has (and the master has no certificate): served from the certdir.
const CERTDIR_NAME: &str = "edge.other.test";
/// Changes made each way.
const CHANGES_PER_WAY: usize = 50;
/// How long one change may take to be served before the test fails.
const GIVE_UP: Duration = Duration::from_secs(10);

/// Handshake outcomes, shared by the load threads and the polling.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Tally {
    /// One handshake with `sni`, counted either way.
    fn handshake(&self, client: &HandshakeClient, addr: SocketAddr, sni: &str) -> Option<String> {
        match client.handshake(addr, sni) {
            Ok(fingerprint) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                Some(fingerprint)
            }
            Err(err) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                let mut errors = self.first_errors.lock().unwrap();
                if errors.len() < 10 {
                    errors.push(format!("{sni}: {err}"));
                }
                None
            }
        }
    }
}

/// Client threads handshaking until dropped (also when the test fails midway).
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    fn start(client: &HandshakeClient, addr: SocketAddr, tally: &Arc<Tally>) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = [DOMAIN, CERTDIR_NAME]
            .map(|sni| {
                let (client, tally, stop) = (client.clone(), Arc::clone(tally), Arc::clone(&stop));
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        tally.handshake(&client, addr, sni);
                    }
                })
            })
            .into();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Polls handshakes with `sni` until the leaf with `expected` (SHA-256) is served;
/// returns how long that took from now. Fails the test after [`GIVE_UP`].
fn wait_served(
    client: &HandshakeClient,
    tally: &Tally,
    addr: SocketAddr,
    sni: &str,
    expected: &str,
    change: &str,
) -> Duration {
    let start = Instant::now();
    loop {
        if tally.handshake(client, addr, sni).as_deref() == Some(expected) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < GIVE_UP,
            "{change}: {expected} was still not served for {sni} after {GIVE_UP:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Rewrites `server.key`, then (after `pause`) `server.crt`, each with one plain
/// write into the existing file (truncate and write, no rename).
fn rewrite_certdir(certdir: &Path, leaf: &Leaf, pause: Duration) {
    std::fs::write(
        certdir.join("server.key"),
        std::fs::read(leaf.key()).unwrap(),
    )
    .unwrap();
    std::thread::sleep(pause);
    std::fs::write(certdir.join("server.crt"), leaf.cert_with_chain()).unwrap();
}

fn summary(way: &str, delays: &mut [Duration]) -> String {
    delays.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "{way}: {} changes, median {:.1} ms, max {:.1} ms",
        delays.len(),
        ms(delays[delays.len() / 2]),
        ms(delays[delays.len() - 1])
    )
}

#[test]
fn certificates_change_under_load_without_a_failed_handshake() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Reload");
    let issue = |cn: &str| -> Vec<(Leaf, String)> {
        (0..=CHANGES_PER_WAY)
            .map(|i| {
                let leaf = ca.leaf(dir.path(), cn, &[], 90, &format!("-{i}"));
                let fingerprint = sha256_fingerprint(&leaf.crt());
                (leaf, fingerprint)
            })
            .collect()
    };
    let domain_leaves = issue(DOMAIN);
    let certdir_leaves = issue(CERTDIR_NAME);
    let certdir = dir.join("certdir");
    certdir_leaves[0].0.install_certdir(&certdir);

    let mut config = ServeConfig::new(dir.path());
    let addr = config.listener("ws", Some(arg(&certdir)), None);
    let server = config.start();
    server.domain_ok(&["add", "example.test", "--json"]);
    server.domain_ok(&["add", DOMAIN, "--json"]);
    let set_cert =
        |leaf: &Leaf| assert_ok(&server.domain(&["set-cert", DOMAIN, arg(&leaf.merged())]));
    set_cert(&domain_leaves[0].0);

    let client = HandshakeClient::new(&ca.root());
    let tally = Arc::new(Tally::default());
    wait_served(&client, &tally, addr, DOMAIN, &domain_leaves[0].1, "start");
    wait_served(
        &client,
        &tally,
        addr,
        CERTDIR_NAME,
        &certdir_leaves[0].1,
        "start",
    );

    let load = Load::start(&client, addr, &tally);
    let (mut by_set_cert, mut by_certdir) = (Vec::new(), Vec::new());
    for change in 1..=CHANGES_PER_WAY {
        let (leaf, fingerprint) = &domain_leaves[change];
        set_cert(leaf);
        let label = format!("set-cert change {change}");
        by_set_cert.push(wait_served(
            &client,
            &tally,
            addr,
            DOMAIN,
            fingerprint,
            &label,
        ));

        // Most rewrites are back to back; every fifth pauses 1.2 s (two watcher polls and
        // more) between key and certificate, so the new key sits beside the old
        // certificate long enough to be seen and refused, and another fifth 300 ms.
        let pause = match change % 5 {
            0 => Duration::from_millis(1200),
            2 => Duration::from_millis(300),
            _ => Duration::ZERO,
        };
        let (leaf, fingerprint) = &certdir_leaves[change];
        let previous = &certdir_leaves[change - 1].1;
        let rewrite = std::thread::scope(|scope| {
            let writer = scope.spawn(|| rewrite_certdir(&certdir, leaf, pause));
            if pause >= Duration::from_secs(1) {
                // Half-way through the pause the key is new and the certificate old.
                std::thread::sleep(pause / 2);
                let served = tally.handshake(&client, addr, CERTDIR_NAME);
                assert_eq!(
                    served.as_deref(),
                    Some(previous.as_str()),
                    "certdir change {change}: with only the key rewritten, the previous pair must stay served"
                );
            }
            writer.join()
        });
        rewrite.unwrap();
        let label = format!("certdir change {change}");
        by_certdir.push(wait_served(
            &client,
            &tally,
            addr,
            CERTDIR_NAME,
            fingerprint,
            &label,
        ));
    }
    drop(load);

    let ok = tally.ok.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    println!("hot reload: {ok} full handshakes, {failed} failed");
    println!(
        "hot reload, {}",
        summary("domain set-cert", &mut by_set_cert)
    );
    println!(
        "hot reload, {}",
        summary("certdir rewrite", &mut by_certdir)
    );
    assert_eq!(
        failed,
        0,
        "failed handshakes (first ones): {:?}\n{}",
        tally.first_errors.lock().unwrap(),
        server.logs()
    );
}
