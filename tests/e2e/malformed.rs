//! Malformed input (acceptance item 5 of the formats issue): well over 100 broken files
//! made at test time from valid ones — truncations, flipped bytes, bad base64, wrong
//! labels, empty and random files, wrong or missing passwords — each given to `inspect`,
//! `convert` and (when present) `keystore list`. Every run must exit 2 with a message
//! naming the file and write nothing, or exit 0 when the damage left the input valid;
//! never panic.

mod cases;

use crate::support::run::{arg, certfleet, describe, TempDir};
use cases::{bases, cases};
use std::fs;

#[test]
fn every_malformed_input_exits_2_naming_the_file_without_panic_or_output() {
    let dir = TempDir::new();
    let bases = bases(&dir);
    let cases = cases(&bases);
    assert!(cases.len() >= 100, "only {} malformed inputs", cases.len());
    let keystore_cli = certfleet(&["keystore", "list", "--help"]).status.success();
    let work = TempDir::new();
    let mut failures = Vec::new();
    let mut refused = 0;
    let mut runs_total = 0;
    let mut accepted = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let input = work.join(&format!("case-{n:03}-{}", case.name));
        fs::write(&input, &case.bytes).unwrap();
        let out = work.join(&format!("out-{n:03}"));
        let mut runs: Vec<Vec<&str>> = Vec::new();
        let mut inspect = vec!["inspect", arg(&input)];
        let mut convert = vec!["convert", arg(&input), "--to", "pem", "--out", arg(&out)];
        if let Some(password) = case.password {
            inspect.extend(["--password", password]);
            convert.extend(["--in-password", password]);
        }
        runs.push(inspect);
        runs.push(convert);
        if keystore_cli {
            runs.push(vec![
                "keystore",
                "list",
                arg(&input),
                "--password",
                case.password.unwrap_or("none"),
            ]);
        }
        for args in runs {
            runs_total += 1;
            let run = certfleet(&args);
            let stderr = String::from_utf8_lossy(&run.stderr);
            let code = run.status.code();
            let problem = if code == Some(101) || stderr.contains("panicked") {
                Some("panicked")
            } else if code == Some(2) {
                refused += 1;
                if stderr.trim().is_empty() {
                    Some("exit 2 with an empty message")
                } else if !stderr.contains(arg(&input)) {
                    Some("the message does not name the file")
                } else if out.exists() {
                    Some("an output file was written")
                } else {
                    None
                }
            } else if code == Some(0) {
                accepted.push(format!("{} ({})", case.name, args[0]));
                (!case.may_succeed).then_some("exit 0 for input that is not valid")
            } else {
                Some("exit status neither 0 nor 2")
            };
            if let Some(problem) = problem {
                failures.push(format!(
                    "{} / {:?}: {problem}\n{}",
                    case.name,
                    &args[..2],
                    describe(&run)
                ));
            }
            let _ = fs::remove_file(&out);
        }
    }
    eprintln!(
        "{} malformed inputs, {runs_total} runs: {refused} refused (exit 2), accepted as still valid: {}",
        cases.len(),
        accepted.join(", ")
    );
    let leftovers: Vec<String> = fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".certfleet-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    assert!(
        refused >= 2 * 100,
        "only {refused} refusals among {} cases",
        cases.len()
    );
}
