//! Rotations the server carries out through the agents (`certfleet rotate ... --platform`)
//! on the rollout test's three nginx nodes, each with a client connecting to the next
//! node's web, while a prober makes full TLS handshakes over every connection all along,
//! each verified against the client node's trust file as it stands at that moment:
//!
//! - a root rotation, an intermediate rotation and a keys rotation each run to the end
//!   without one failed handshake; afterwards no deployed file on any node holds the old
//!   CA's certificates and every leaf verifies against the CA directory's (new) CA; the
//!   keys rotation leaves every service with a new key; `apply` of the model refuses a
//!   rotation the server drives; each phase and each node's step is in the audit log;
//! - a root rotation whose phase 2 meets a node whose hook refuses the new certificate
//!   holds: `rollout_halted` and `rotation_stalled` alerts, `certfleet nodes` shows the
//!   node failed, `certfleet rotate status` too; after the fix it is rolled back and the
//!   rollout resumed, and the old CA is all that is left — without a failed handshake.

mod lab;

use crate::agents_rollout::fixture::{wait_until, Platform, GROUP, PLATFORM};
use crate::support::run::{certfleet, describe};
use lab::{assert_only_ca, ca_fingerprints, fingerprints, Prober};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// `certfleet ARGS... --json` against the lab's server: the JSON it printed.
fn json(platform: &Platform, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = platform.admin(&all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// `certfleet rotate status --platform shop --json`.
fn status(platform: &Platform) -> Value {
    json(platform, &["rotate", "status", "--platform", PLATFORM])
}

/// The platform's CA directory.
fn ca_dir(platform: &Platform) -> PathBuf {
    platform.root.parent().unwrap().to_path_buf()
}

/// Waits for every node's first deployment, trusted over every connection.
fn first_deployment(platform: &Platform) {
    wait_until(
        "the first deployment on every node",
        || platform.logs(),
        || platform.shown().iter().all(|s| s.state == "current") && lab::all_trusted(platform),
    );
}

/// Waits until no rotation runs; the phases seen on the way, in order.
fn run_to_the_end(platform: &Platform) -> Vec<String> {
    let phases = std::cell::RefCell::new(Vec::<String>::new());
    wait_until(
        "the rotation's end",
        || {
            format!(
                "phases seen: {:?}\n{}\n{}",
                phases.borrow(),
                status(platform),
                platform.logs()
            )
        },
        || {
            let now = status(platform);
            let mut seen = phases.borrow_mut();
            match now["rotation"]["phase"].as_str() {
                Some(phase) => {
                    if seen.last().map(String::as_str) != Some(phase) {
                        seen.push(phase.to_owned());
                    }
                    false
                }
                None => true,
            }
        },
    );
    phases.into_inner()
}

/// The audit records of `actor`, newest first: (action, detail).
fn audit(platform: &Platform, actor: &str) -> Vec<(String, String)> {
    let page = platform.api("GET", "/api/audit?limit=500").json();
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == actor)
        .map(|r| {
            (
                r["action"].as_str().unwrap_or_default().to_owned(),
                r["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn has_alert(platform: &Platform, kind: &str) -> Option<String> {
    let alerts = platform.api("GET", "/api/alerts").json();
    alerts["recent"].as_array().and_then(|list| {
        list.iter()
            .find(|a| a["kind"] == kind)
            .map(|a| a["message"].as_str().unwrap_or_default().to_owned())
    })
}

fn assert_no_failed_handshake(prober: Prober, what: &str) {
    let (made, failed) = prober.finish();
    eprintln!("{what}: {made} handshakes, {} failed", failed.len());
    assert!(made > 0);
    assert!(failed.is_empty(), "{what}: failed handshakes: {failed:#?}");
}

#[test]
fn root_intermediate_and_keys_rotations_run_through_the_agents_without_a_failed_handshake() {
    let platform = lab::start();
    first_deployment(&platform);
    let ca = ca_dir(&platform);
    let probe = Prober::start(&platform);

    // A root rotation.
    let old = ca_fingerprints(&ca);
    let started = json(&platform, &["rotate", "ca", "--platform", PLATFORM]);
    assert_eq!(started["rotation"]["kind"], "root", "{started}");
    assert_eq!(started["rotation"]["phase"], "trust", "{started}");
    assert_eq!(started["driven_by"], "server", "{started}");
    // apply leaves a rotation the server drives alone.
    let refused = certfleet(&[
        "apply",
        "--model",
        platform.server.model_file.to_str().unwrap(),
        "--no-reload",
        "--data-dir",
        platform.server.server.data_dir.to_str().unwrap(),
    ]);
    assert!(!refused.status.success(), "{}", describe(&refused));
    assert!(
        describe(&refused).contains("driven by the certfleet server"),
        "{}",
        describe(&refused)
    );
    let phases = run_to_the_end(&platform);
    assert!(phases.contains(&"retire".to_owned()), "{phases:?}");
    assert_only_ca(&platform, &ca, &old);
    assert!(ca.join("retired").is_dir());
    let finished = status(&platform);
    assert!(
        finished["finished"]
            .as_str()
            .is_some_and(|f| f.contains("the new CA is in place")),
        "{finished}"
    );

    // An intermediate rotation: the root stays, the issuing CA changes.
    let old_issuing: BTreeSet<String> = fingerprints(&ca.join("intermediate.crt"))
        .into_iter()
        .collect();
    let started = json(
        &platform,
        &["rotate", "ca", "--platform", PLATFORM, "--intermediate"],
    );
    assert_eq!(started["rotation"]["kind"], "intermediate", "{started}");
    run_to_the_end(&platform);
    assert_only_ca(&platform, &ca, &old_issuing);

    // A keys rotation: every service of the internal CA gets a new key.
    let key_of = |name: &str, n: usize| {
        std::fs::read(
            platform.nodes[n - 1]
                .files
                .file(&format!("tls/{name}-{n}.key")),
        )
        .unwrap()
    };
    let keys_before: Vec<Vec<u8>> = (1..=3)
        .flat_map(|n| [key_of("web", n), key_of("app", n)])
        .collect();
    let started = json(
        &platform,
        &["rotate", "keys", "--platform", PLATFORM, "--now"],
    );
    assert_eq!(started["rotation"]["kind"], "keys", "{started}");
    run_to_the_end(&platform);
    let keys_after: Vec<Vec<u8>> = (1..=3)
        .flat_map(|n| [key_of("web", n), key_of("app", n)])
        .collect();
    for (before, after) in keys_before.iter().zip(&keys_after) {
        assert_ne!(before, after, "a key was not replaced");
    }
    assert_only_ca(&platform, &ca, &old);
    assert_no_failed_handshake(probe, "root, intermediate and keys rotations");

    // The audit log has every start, every phase and the nodes' steps.
    let steps = audit(&platform, "agent-rotation");
    let phase_lines = steps.iter().filter(|(a, _)| a == "rotation.phase").count();
    assert!(
        phase_lines >= 9,
        "three phases each of three rotations: {steps:#?}"
    );
    assert!(
        steps.iter().any(|(a, _)| a == "rotation.node"),
        "{steps:#?}"
    );
    let finishes = steps
        .iter()
        .filter(|(a, d)| a == "rotation.phase" && d.contains("finished"))
        .count();
    assert_eq!(finishes, 3, "{steps:#?}");
}

#[test]
fn a_rotation_held_by_a_failing_node_is_reported_resumed_and_rolled_back_without_a_failed_handshake(
) {
    let platform = lab::start();
    first_deployment(&platform);
    let ca = ca_dir(&platform);
    let probe = Prober::start(&platform);
    let started = json(&platform, &["rotate", "ca", "--platform", PLATFORM]);
    assert_eq!(started["rotation"]["phase"], "trust", "{started}");
    let new_ca = ca_fingerprints(&ca.join("next"));
    // n3's hook refuses any certificate but the one it serves: phase 1 changes none.
    let failing = &platform.nodes[2];
    let serving = fingerprints(&failing.files.file("tls/web-3.crt"))[0].clone();
    std::fs::write(failing.keep_file(), &serving).unwrap();

    // Phase 2 reaches n3, whose deployment is rolled back: the rollout halts and the
    // rotation holds.
    wait_until(
        "n3 shown failed in the rotation",
        || format!("{}\n{}", status(&platform), platform.logs()),
        || {
            let now = status(&platform);
            now["rotation"]["phase"] == "reissue"
                && now["nodes"].as_array().is_some_and(|nodes| {
                    nodes
                        .iter()
                        .any(|n| n["node"] == "n3" && n["state"] == "failed")
                })
        },
    );
    wait_until(
        "a rollout_halted alert naming n3",
        || platform.logs(),
        || has_alert(&platform, "rollout_halted").is_some_and(|m| m.contains("node n3")),
    );
    wait_until(
        "node n3 shown failed by certfleet nodes",
        || format!("{:?}", platform.shown()),
        || platform.shown()[2].state == "failed",
    );
    let text = platform.admin(&["rotate", "status", "--platform", PLATFORM]);
    assert!(text.contains("phase 2 of 3 (reissue)"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("n3") && l.contains("failed")),
        "{text}"
    );
    wait_until(
        "a rotation_stalled alert",
        || platform.logs(),
        || has_alert(&platform, "rotation_stalled").is_some(),
    );
    let stalled = has_alert(&platform, "rotation_stalled").unwrap();
    assert!(
        stalled.contains(&format!("platform {PLATFORM}")),
        "{stalled}"
    );
    assert!(stalled.contains("phase 2 of 3 (reissue)"), "{stalled}");
    assert_eq!(status(&platform)["rotation"]["phase"], "reissue");
    assert!(failing.hook_runs().iter().any(|r| r == "refused"));

    // The fix, then the rollback (the group still halted keeps phase 2), then the group
    // resumed: the certificates come from the old CA again and the new CA goes.
    std::fs::remove_file(failing.keep_file()).unwrap();
    let back = json(
        &platform,
        &["rotate", "ca", "--platform", PLATFORM, "--rollback"],
    );
    assert_eq!(back["rotation"]["phase"], "rollback-reissue", "{back}");
    let said = platform.admin(&["rollout", "resume", GROUP, "--platform", PLATFORM]);
    assert!(said.contains("resumed"), "{said}");
    let phases = run_to_the_end(&platform);
    assert!(!phases.contains(&"retire".to_owned()), "{phases:?}");
    let finished = status(&platform);
    assert!(
        finished["finished"]
            .as_str()
            .is_some_and(|f| f.contains("rolled back")),
        "{finished}"
    );
    assert!(ca.join("abandoned").is_dir());
    assert!(!ca.join("next").exists());
    assert_only_ca(&platform, &ca, &new_ca);
    assert_no_failed_handshake(probe, "the held and rolled back rotation");
    let steps = audit(&platform, "agent-rotation");
    assert!(
        steps.iter().any(|(a, _)| a == "rotation.stalled"),
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|(a, d)| a == "rotation.node" && d.contains("node n3 failed")),
        "{steps:#?}"
    );
}
