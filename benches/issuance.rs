//! Issuance throughput beside openssl, in one run.
//!
//! For a P-256 CA and an RSA-2048 CA it measures, in process, certificates per second
//! issued (a) with a fresh P-256 leaf key each time (`cert issue`) and (b) for an
//! existing key by signing a CSR (`csr sign`), then runs `openssl speed` for the CA's
//! signature algorithm on the same machine and prints each rate beside openssl's bare
//! signatures per second as a ratio. Run it with
//! `cargo bench -p certfleet-pki --bench issuance` (BENCH_SECONDS sets the time per row).

// A benchmark whose setup fails has nothing to measure: aborting with the reason is right.
#![allow(clippy::expect_used)]

use certfleet_pki::authority::{init_ca, Authority};
use certfleet_pki::csr::{new_csr, read_csr, sign_csr, SigningPolicy};
use certfleet_pki::issue::{issue_leaf, LeafRequest};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let budget = Duration::from_secs(seconds);
    println!("issuance benchmark, {seconds} s per row, leaf keys P-256");
    println!(
        "{:<10} {:>22} {:>18} {:>16} {:>9} {:>9}",
        "CA key",
        "issue+keygen certs/s",
        "sign CSR certs/s",
        "openssl sign/s",
        "ratio a",
        "ratio b"
    );
    for (algorithm, openssl_name) in [
        (KeyAlgorithm::EcdsaP256, "ecdsap256"),
        (KeyAlgorithm::Rsa2048, "rsa2048"),
    ] {
        let ca = init_ca("Bench Root", algorithm, 365, None).expect("CA");
        let authority = Authority::new(ca.root_cert, ca.root_key, vec![]).expect("authority");
        let request = LeafRequest {
            cn: "bench.example.test".into(),
            dns_names: vec![],
            ips: vec![],
            usage: Usage::Server,
            days: 90,
            key: KeyAlgorithm::EcdsaP256,
        };
        let with_keygen = rate(budget, || {
            issue_leaf(&request, Some(&authority)).expect("issue");
        });
        let csr = new_csr(
            "bench.example.test",
            &[],
            &[],
            false,
            KeyAlgorithm::EcdsaP256,
        )
        .expect("csr");
        let csr = read_csr(&csr.csr_der).expect("read csr");
        let policy = SigningPolicy::default();
        let signing_only = rate(budget, || {
            sign_csr(&authority, &csr, Usage::Server, 90, &policy).expect("sign");
        });
        let openssl = openssl_signs_per_second(openssl_name, seconds);
        let shown = |value: Option<f64>, digits: usize| {
            value
                .map(|v| format!("{v:.digits$}"))
                .unwrap_or_else(|| "n/a".into())
        };
        println!(
            "{:<10} {:>22.0} {:>18.0} {:>16} {:>9} {:>9}",
            algorithm.name(),
            with_keygen,
            signing_only,
            shown(openssl, 0),
            shown(openssl.map(|o| with_keygen / o), 2),
            shown(openssl.map(|o| signing_only / o), 2),
        );
    }
    println!(
        "ratio a = issue+keygen / openssl signatures; ratio b = sign CSR / openssl signatures"
    );
}

/// Calls `work` repeatedly for `budget` and returns calls per second.
fn rate(budget: Duration, mut work: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut count = 0u32;
    while start.elapsed() < budget {
        work();
        count += 1;
    }
    f64::from(count) / start.elapsed().as_secs_f64()
}

/// `openssl speed` signatures per second for `algorithm` (`ecdsap256` or `rsa2048`).
fn openssl_signs_per_second(algorithm: &str, seconds: u64) -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), algorithm])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The result line ends with "sign/s verify/s", e.g. "rsa 2048 bits ... 1666.1 58241.2"
    // or "256 bits ecdsa (nistp256) ... 39163.9 12952.1".
    let line = text.lines().rev().find(|l| {
        let l = l.trim_start();
        (algorithm.starts_with("rsa") && l.starts_with("rsa "))
            || (algorithm.starts_with("ecdsa") && l.contains("ecdsa ("))
    })?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches('s').parse().ok())
        .collect();
    numbers.get(numbers.len().checked_sub(2)?).copied()
}
