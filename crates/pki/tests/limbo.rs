//! Runs the x509-limbo suite (../shared/testdata/x509-limbo) through certfleet's verifier
//! under both profiles and compares with each case's expected result. Prints the counts
//! (pass, false accept, false reject, skipped) and every mistake per profile; fails when
//! the `webpki` profile accepts more than 14 cases it should refuse (pyca-cryptography's
//! harness: 14) or passes fewer than 9,730, and when the `rfc5280` profile does worse than
//! its recorded counts.
//!
//! `cargo test -p certfleet-pki --test limbo -- --nocapture`

// The helper below runs inside the test; a suite that does not parse fails it.
#![allow(clippy::expect_used)]

use certfleet_pki::verify::{run_limbo, Profile};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

const SUITE: &str = "../../../shared/testdata/x509-limbo/limbo.json.xz";

/// The counts of one run.
#[derive(Debug, Default)]
struct Counts {
    pass: usize,
    false_accept: usize,
    false_reject: usize,
    skipped: usize,
}

#[test]
fn x509_limbo_suite_under_both_profiles() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SUITE);
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("the limbo suite {} is missing: {e}", path.display()));
    let mut json = Vec::new();
    xz2::read::XzDecoder::new(file)
        .read_to_end(&mut json)
        .expect("limbo.json.xz decompresses");
    let suite: serde_json::Value = serde_json::from_slice(&json).expect("limbo.json parses");
    let expected: HashMap<&str, &str> = suite["testcases"]
        .as_array()
        .expect("testcases")
        .iter()
        .map(|case| {
            (
                case["id"].as_str().expect("id"),
                case["expected_result"].as_str().expect("expected_result"),
            )
        })
        .collect();

    let rfc5280 = run(&json, &expected, Profile::Rfc5280);
    let webpki = run(&json, &expected, Profile::WebPki);

    assert!(
        webpki.false_accept <= 14,
        "webpki profile: {} false accepts (pyca-cryptography's harness: 14)",
        webpki.false_accept
    );
    assert!(
        webpki.pass >= 9730,
        "webpki profile: only {} cases pass (9,730 at least)",
        webpki.pass
    );
    // The rfc5280 profile's recorded counts (docs/BENCHMARKS.md): no fewer passes, no
    // more false accepts.
    assert!(
        rfc5280.pass >= 9728,
        "rfc5280 profile: only {} cases pass (9,728 recorded)",
        rfc5280.pass
    );
    assert!(
        rfc5280.false_accept <= 34,
        "rfc5280 profile: {} false accepts (34 recorded)",
        rfc5280.false_accept
    );
}

/// Runs the suite under `profile`, prints its counts and mistakes, returns the counts.
fn run(json: &[u8], expected: &HashMap<&str, &str>, profile: Profile) -> Counts {
    let started = std::time::Instant::now();
    let report = run_limbo(json, profile).expect("the suite runs");
    let elapsed = started.elapsed();
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), expected.len(), "one result per case");

    let mut counts = Counts::default();
    let mut mistakes = Vec::new();
    for result in results {
        let id = result["id"].as_str().expect("id");
        let actual = result["actual_result"].as_str().expect("actual_result");
        let context = result["context"].as_str().unwrap_or("");
        match (actual, expected[id]) {
            ("SKIPPED", _) => {
                counts.skipped += 1;
                mistakes.push(format!("skipped       {id}: {context}"));
            }
            (a, w) if a == w => counts.pass += 1,
            ("SUCCESS", _) => {
                counts.false_accept += 1;
                mistakes.push(format!("false accept  {id}"));
            }
            _ => {
                counts.false_reject += 1;
                mistakes.push(format!("false reject  {id}: {context}"));
            }
        }
    }
    println!(
        "x509-limbo, profile {}: {} cases in {:.1} s: pass {}, false accept {}, false reject {}, skipped {}",
        profile.as_str(),
        results.len(),
        elapsed.as_secs_f64(),
        counts.pass,
        counts.false_accept,
        counts.false_reject,
        counts.skipped
    );
    for mistake in &mistakes {
        println!("  {mistake}");
    }
    counts
}
