//! The rotation lab: the rollout test's three nodes (an nginx each serving `web-N`,
//! reloaded by the node's hook) plus on each node a client `app-N` that connects to the
//! next node's web (`app-1` → `web-2` → …, `app-3` → `web-1`) and gets its trust as a PEM
//! bundle (`trust/app-N.pem`); the server's `[agents] rotation_stall_after` is short so
//! that a held phase raises `rotation_stalled` within the test.
//!
//! The [`Prober`] plays the three connections all along: each attempt is a full TLS
//! handshake to `web-M` verified against what `app-N`'s node holds at that moment (its
//! trust file read afresh), as a client that picks up its truststore at once would.

use crate::agents_rollout::fixture::Platform;
use crate::support::run::{assert_ok, describe};
use crate::support::tls_client::HandshakeClient;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The server's `[agents]` keys of the lab.
pub const AGENTS_KEYS: &str = "rotation_stall_after = \"10s\"\n";

/// The client services and their connections, for the model.
pub fn clients(listeners: &[SocketAddr]) -> String {
    let mut text = String::new();
    for n in 1..=listeners.len() {
        let to = n % listeners.len() + 1;
        text.push_str(&format!(
            "\n[[service]]\nname = \"app-{n}\"\nnode = \"n{n}\"\n\n[[service.output]]\nformat = \"pem-pair\"\npath = \"tls/app-{n}\"\n\n[[service.output]]\nformat = \"pem-trust\"\npath = \"trust/app-{n}.pem\"\n\n[[connection]]\nfrom = \"app-{n}\"\nto = \"web-{to}\"\n"
        ));
    }
    text
}

/// Starts the lab.
pub fn start() -> Platform {
    Platform::start_with(clients, AGENTS_KEYS)
}

/// One connection: `app-N`'s trust file, and where and as whom `web-M` answers.
#[derive(Clone)]
struct Link {
    trust: PathBuf,
    addr: SocketAddr,
    sni: String,
}

/// The connections of `platform`: `app-N` on node N to the next node's web.
fn links(platform: &Platform) -> Vec<Link> {
    let count = platform.nodes.len();
    (0..count)
        .map(|i| {
            let to = &platform.nodes[(i + 1) % count];
            Link {
                trust: platform.nodes[i]
                    .files
                    .file(&format!("trust/app-{}.pem", i + 1)),
                addr: to.addr,
                sni: to.server_name.clone(),
            }
        })
        .collect()
}

/// Whether every connection's client trusts its server now.
pub fn all_trusted(platform: &Platform) -> bool {
    links(platform).iter().all(|link| attempt(link).is_ok())
}

fn attempt(link: &Link) -> Result<String, String> {
    if !link.trust.exists() {
        return Err(format!("{} is not there yet", link.trust.display()));
    }
    HandshakeClient::new(&link.trust).handshake(link.addr, &link.sni)
}

/// Handshakes over every connection, one after the other per connection, until stopped.
pub struct Prober {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<(usize, Vec<String>)>>,
}

impl Prober {
    /// Starts probing `platform`'s connections.
    pub fn start(platform: &Platform) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = links(platform)
            .into_iter()
            .map(|link| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let (mut made, mut failed) = (0, Vec::new());
                    while !stop.load(Ordering::Relaxed) {
                        made += 1;
                        if let Err(e) = attempt(&link) {
                            failed.push(format!("{} ({}): {e}", link.sni, link.addr));
                        }
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    (made, failed)
                })
            })
            .collect();
        Prober { stop, threads }
    }

    /// Stops; the attempts made and the failures, over all connections.
    pub fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let (mut made, mut failed) = (0, Vec::new());
        for thread in self.threads {
            let (m, f) = thread.join().unwrap();
            made += m;
            failed.extend(f);
        }
        (made, failed)
    }
}

/// The SHA-256 fingerprints (upper-case hex, no colons) of every certificate in `file`.
pub fn fingerprints(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut all = Vec::new();
    let mut block = String::new();
    for line in text.lines() {
        block.push_str(line);
        block.push('\n');
        if line.starts_with("-----END CERTIFICATE") {
            let out = openssl(&["x509", "-noout", "-fingerprint", "-sha256"], &block);
            all.push(
                out.trim()
                    .rsplit('=')
                    .next()
                    .unwrap()
                    .replace(':', "")
                    .to_uppercase(),
            );
            block.clear();
        } else if line.starts_with("-----END") {
            block.clear();
        }
    }
    all
}

fn openssl(args: &[&str], input: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The certificate files every node holds: its web's and app's PEM pairs and the app's
/// trust bundle.
pub fn deployed_files(platform: &Platform) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (i, node) in platform.nodes.iter().enumerate() {
        let n = i + 1;
        for path in [
            format!("tls/web-{n}.crt"),
            format!("tls/app-{n}.crt"),
            format!("trust/app-{n}.pem"),
        ] {
            files.push(node.files.file(&path));
        }
    }
    files
}

/// Asserts that no deployed file holds one of `gone` (fingerprints) and that each leaf
/// (the first certificate of a `.crt`) verifies against `ca_dir`'s root and intermediate
/// with openssl.
pub fn assert_only_ca(platform: &Platform, ca_dir: &Path, gone: &BTreeSet<String>) {
    for file in deployed_files(platform) {
        let held = fingerprints(&file);
        assert!(!held.is_empty(), "{} holds no certificate", file.display());
        for sha in &held {
            assert!(
                !gone.contains(sha),
                "{} still holds the old CA's certificate {sha}",
                file.display()
            );
        }
        if file.extension().is_some_and(|e| e == "crt") {
            let out = Command::new("openssl")
                .arg("verify")
                .arg("-CAfile")
                .arg(ca_dir.join("root.crt"))
                .arg("-untrusted")
                .arg(ca_dir.join("intermediate.crt"))
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{} does not chain to the CA in {}: {}",
                file.display(),
                ca_dir.display(),
                describe(&out)
            );
        }
    }
}

/// The fingerprints of `ca_dir`'s root and intermediate.
pub fn ca_fingerprints(ca_dir: &Path) -> BTreeSet<String> {
    ["root.crt", "intermediate.crt"]
        .iter()
        .flat_map(|name| fingerprints(&ca_dir.join(name)))
        .collect()
}
