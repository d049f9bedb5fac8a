//! An agent killed with SIGKILL in the middle of `agent run --once`, again and again, with
//! a renewal asked for before each kill so that files change: after every kill each
//! output file is either absent (never deployed yet) or whole and either the previous
//! file or the one the next complete run deploys (byte for byte for PEM and DER files,
//! by the leaf they hold for keystores, whose bytes differ on every write).

use super::fixture::{Node, PLATFORM};
use super::fleet::{admin, is_private_key, model_head, start_platform};
use crate::support::openssl::openssl;
use crate::support::run::{arg, assert_ok, describe, stdout, TempDir};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The JKS password in the model.
const JKS_PASSWORD: &str = "changeit";

/// The output files of the node and how each is read back.
const FILES: [(&str, Kind); 10] = [
    ("tls/bulk.crt", Kind::Pem),
    ("tls/bulk.key", Kind::Key),
    ("tls/bulk.der", Kind::Der),
    ("tls/bulk.p12", Kind::Pkcs12),
    ("tls/bulk.jks", Kind::Jks),
    ("tls/trust.pem", Kind::Pem),
    ("side/side.crt", Kind::Pem),
    ("side/side.key", Kind::Key),
    ("side/side.der", Kind::Der),
    ("side/side.p12", Kind::Pkcs12),
];

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Pem,
    Key,
    Der,
    Pkcs12,
    Jks,
}

/// Two services on n1 with many outputs between them (hook `true`); `side` is a
/// mutual-TLS client of `bulk`, so `bulk`'s trust store is not empty.
fn model() -> String {
    let mut text = model_head("ecdsa-p256");
    text.push_str(&format!(
        r#"
[[service]]
name = "bulk"
node = "n1"
hook = "done"

[[service.output]]
format = "pem-pair"
path = "tls/bulk"

[[service.output]]
format = "der"
path = "tls/bulk.der"

[[service.output]]
format = "pkcs12"
path = "tls/bulk.p12"
alias = "bulk"

[[service.output]]
format = "jks"
path = "tls/bulk.jks"
alias = "bulk"
password = "{JKS_PASSWORD}"

[[service.output]]
format = "pem-trust"
path = "tls/trust.pem"

[[service]]
name = "side"
node = "n1"
hook = "done"

[[service.output]]
format = "pem-pair"
path = "side/side"

[[service.output]]
format = "der"
path = "side/side.der"

[[service.output]]
format = "pkcs12"
path = "side/side.p12"
alias = "side"

[[connection]]
from = "side"
to = "bulk"
mtls = true
"#
    ));
    text
}

/// Each present file's bytes.
fn snapshot(node: &Node) -> BTreeMap<&'static str, Vec<u8>> {
    FILES
        .iter()
        .filter_map(|(path, _)| fs::read(node.file(path)).ok().map(|b| (*path, b)))
        .collect()
}

/// The SHA-256 fingerprint of the certificate in `path` (`-inform` `form`), as openssl
/// prints it.
fn fingerprint(path: &Path, form: &str) -> Option<String> {
    let out = openssl([
        "x509",
        "-inform",
        form,
        "-in",
        arg(path),
        "-noout",
        "-fingerprint",
        "-sha256",
    ]);
    out.status.success().then(|| {
        stdout(&out)
            .trim()
            .rsplit('=')
            .next()
            .unwrap_or_default()
            .to_owned()
    })
}

/// The SHA-256 fingerprint of the first certificate in PEM `text`.
fn first_cert_sha256(text: &str) -> Option<String> {
    let dir = TempDir::new();
    let pem = dir.join("first.pem");
    fs::write(&pem, text).unwrap();
    fingerprint(&pem, "PEM")
}

/// Reads `path` back as `kind`; the SHA-256 of the leaf it holds (none for keys and
/// trust stores), or why it is not whole.
fn read_back(node: &Node, path: &Path, kind: Kind) -> Result<Option<String>, String> {
    let fail = |out: &std::process::Output| Err(describe(out));
    match kind {
        Kind::Pem => {
            let out = openssl(["x509", "-in", arg(path), "-noout"]);
            if !out.status.success() {
                return fail(&out);
            }
            let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
            // Every certificate of the file must be whole, not only the first.
            let begins = text.matches("-----BEGIN CERTIFICATE-----").count();
            let ends = text.matches("-----END CERTIFICATE-----").count();
            if begins != ends || !text.ends_with('\n') {
                return Err(format!("{} is cut short", path.display()));
            }
            Ok(fingerprint(path, "PEM"))
        }
        Kind::Key => is_private_key(path)
            .then_some(None)
            .ok_or_else(|| format!("{} is not a private key", path.display())),
        Kind::Der => fingerprint(path, "DER")
            .map(Some)
            .ok_or_else(|| format!("{} is not a DER certificate", path.display())),
        Kind::Pkcs12 => {
            let password = node.password(path);
            let out = openssl([
                "pkcs12",
                "-in",
                arg(path),
                "-passin",
                &format!("pass:{password}"),
                "-nokeys",
                "-clcerts",
            ]);
            if !out.status.success() {
                return fail(&out);
            }
            Ok(first_cert_sha256(&stdout(&out)))
        }
        Kind::Jks => {
            let out = Command::new("keytool")
                .args(["-list", "-rfc", "-keystore", arg(path)])
                .args(["-storepass", JKS_PASSWORD])
                .output()
                .unwrap();
            if !out.status.success() || !stdout(&out).contains("PrivateKeyEntry") {
                return fail(&out);
            }
            Ok(first_cert_sha256(&stdout(&out)))
        }
    }
}

/// A pseudo-random delay of 5 to 200 ms.
fn random_delay(iteration: u64) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let mixed = (u64::from(nanos) ^ iteration.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 196;
    Duration::from_millis(5 + mixed)
}

/// Deploys once, then `iterations` times: asks for renewals, kills a `run --once` after
/// a random delay, reads every file back, and completes the deployment with a full run.
pub fn run(iterations: u64) {
    let (platform, _) = start_platform(&model());
    let node = platform.enroll("n1", &[("done", "true".to_owned())]);
    assert_ok(&node.run_once());
    let mut cut_between = 0;
    for iteration in 0..iterations {
        let previous = snapshot(&node);
        for service in ["bulk", "side"] {
            // A renewal may still be under way after a kill: then the server refuses a
            // second one, and the files change anyway or stay as they are.
            let _ = admin(&platform, &["renew", service, "--platform", PLATFORM]);
        }
        let delay = random_delay(iteration);
        let mut child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(["agent", "run", "--once", "--data-dir", arg(&node.data)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();

        // Every file is absent (and was before) or whole.
        let killed = snapshot(&node);
        let mut leaves = BTreeMap::new();
        for (path, kind) in FILES {
            let file = node.file(path);
            if !killed.contains_key(path) {
                assert!(
                    !previous.contains_key(path),
                    "iteration {iteration} ({delay:?}): {path} disappeared"
                );
                continue;
            }
            let leaf = read_back(&node, &file, kind)
                .unwrap_or_else(|e| panic!("iteration {iteration} ({delay:?}): {path}: {e}"));
            leaves.insert(path, leaf);
        }

        // The next complete run deploys; each file was the previous or that one.
        let completed = node.run_once();
        assert_ok(&completed);
        for service in ["bulk", "side"] {
            let line = Node::line(&stdout(&completed), service).to_owned();
            assert!(line.starts_with(&format!("{service} current")), "{line}");
        }
        let finished = snapshot(&node);
        let changed: Vec<&str> = FILES
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| killed.get(p) != previous.get(p))
            .collect();
        if !changed.is_empty() && changed.len() < FILES.len() {
            cut_between += 1;
        }
        for path in changed {
            let kind = FILES.iter().find(|(p, _)| *p == path).unwrap().1;
            let now = &killed[path];
            let matches_final = match kind {
                Kind::Pkcs12 | Kind::Jks => {
                    let final_leaf = read_back(&node, &node.file(path), kind).unwrap();
                    leaves[path] == final_leaf
                }
                _ => finished.get(path) == Some(now),
            };
            assert!(
                matches_final,
                "iteration {iteration} ({delay:?}): {path} is neither the previous file nor the deployed one"
            );
        }
    }
    eprintln!("killed between two files of a deployment in {cut_between} of {iterations} runs");
}
