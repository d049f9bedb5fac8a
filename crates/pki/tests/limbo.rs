//! Runs the x509-limbo suite (../shared/testdata/x509-limbo) through certfleet's verifier
//! and compares with each case's expected result. Prints the counts (pass, false accept,
//! false reject, skipped) and the mistakes per id family; fails when certfleet does worse
//! than rustls-webpki's own harness (9,703 passes, 55 false accepts).
//!
//! `cargo test -p certfleet-pki --test limbo -- --nocapture`

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

const SUITE: &str = "../../../shared/testdata/x509-limbo/limbo.json.xz";

#[test]
fn x509_limbo_suite() {
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

    let started = std::time::Instant::now();
    let report = certfleet_pki::verify::run_limbo(&json).expect("the suite runs");
    let elapsed = started.elapsed();
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), expected.len(), "one result per case");

    let (mut pass, mut false_accept, mut false_reject, mut skipped) = (0, 0, 0, 0);
    let mut families: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut mistakes = Vec::new();
    for result in results {
        let id = result["id"].as_str().expect("id");
        let actual = result["actual_result"].as_str().expect("actual_result");
        let want = expected[id];
        let family = id.split("::").next().unwrap_or(id).to_string();
        match (actual, want) {
            ("SKIPPED", _) => skipped += 1,
            (a, w) if a == w => pass += 1,
            ("SUCCESS", _) => {
                false_accept += 1;
                families.entry(family).or_default().0 += 1;
                mistakes.push(format!("false accept  {id}"));
            }
            _ => {
                false_reject += 1;
                families.entry(family).or_default().1 += 1;
                mistakes.push(format!(
                    "false reject  {id}: {}",
                    result["context"].as_str().unwrap_or("")
                ));
            }
        }
    }
    println!(
        "x509-limbo: {} cases in {:.1} s: pass {pass}, false accept {false_accept}, false reject {false_reject}, skipped {skipped}",
        results.len(),
        elapsed.as_secs_f64()
    );
    for (family, (accepts, rejects)) in &families {
        println!("  {family}: {accepts} false accepts, {rejects} false rejects");
    }
    for mistake in &mistakes {
        println!("  {mistake}");
    }
    for result in results.iter().filter(|r| r["actual_result"] == "SKIPPED") {
        println!("  skipped  {}: {}", result["id"], result["context"]);
    }
    assert!(
        pass >= 9703,
        "only {pass} cases pass (rustls-webpki's harness: 9,703)"
    );
    assert!(
        false_accept <= 55,
        "{false_accept} false accepts (rustls-webpki's harness: 55)"
    );
}
