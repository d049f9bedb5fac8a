//! Rotations run to the end under the prober, on each example: `rotate ca` (a new root
//! and issuing CA), `rotate ca --intermediate` and `rotate keys`, each followed by applies
//! until `plan` shows no rotation, with handshakes on every connection between any two
//! applies; then a rotation whose phase-2 reload fails (held, fixed, resumed) and one
//! rolled back. No handshake may fail, and at the end no output holds or chains to the
//! CA that left.

use super::ca_checks::{
    assert_leaves_from_current_ca, assert_nothing_from, current_ca, deployed_keys, next_ca,
};
use super::lab::Lab;
use super::reissue::assert_probes_most_connections;
use crate::support::prober::Prober;
use crate::support::run::describe;
use serde_json::Value;

/// Handshakes each connection makes between two steps of a rotation.
const ROUNDS: u64 = 10;

/// More applies than any rotation needs.
const MOST_APPLIES: usize = 8;

/// The rotation `plan` reports, if one is running.
fn rotation(plan: &Value) -> Option<&Value> {
    plan.get("rotation").filter(|r| !r.is_null())
}

/// The phase the running rotation is in.
pub(super) fn phase(lab: &Lab) -> Option<String> {
    rotation(&lab.plan()).map(|r| r["phase"].as_str().unwrap().to_owned())
}

/// Lets every connection handshake with what the last step deployed.
pub(super) fn between_steps(prober: &Prober) {
    prober.settle();
    prober.wait_for_rounds(ROUNDS);
}

/// Applies until `plan` shows no rotation, letting every connection handshake after each
/// apply; the phases the applies carried out, in order.
pub(super) fn run_to_the_end(lab: &Lab, prober: &Prober, what: &str) -> Vec<String> {
    let mut phases = Vec::new();
    for _ in 0..MOST_APPLIES {
        let Some(current) = phase(lab) else {
            return phases;
        };
        prober.stage(&format!("{what}, apply in phase {current}"));
        lab.apply_ok(&format!("the apply in phase {current} of {what}"));
        between_steps(prober);
        phases.push(current);
    }
    panic!("{what} still runs after {MOST_APPLIES} applies: {phases:?}");
}

/// `rotate <args>` then applies to the end, under `prober`; the phases.
fn rotate_to_the_end(lab: &Lab, prober: &Prober, args: &[&str]) -> Vec<String> {
    let what = format!("rotate {}", args.join(" "));
    prober.stage(&what);
    lab.rotate(args);
    between_steps(prober);
    run_to_the_end(lab, prober, &what)
}

/// A root rotation: afterwards nothing holds or chains to the old root and issuing CA.
fn root_rotation(lab: &Lab, prober: &Prober) {
    let site = lab.site();
    let old = current_ca(&site);
    let phases = rotate_to_the_end(lab, prober, &["ca"]);
    assert_eq!(phases, ["trust", "reissue", "retire"], "root rotation");
    assert_ne!(
        current_ca(&site),
        old,
        "the CA directory still holds the old CA"
    );
    assert_nothing_from(&site, &old, "old root and issuing CA");
    assert_leaves_from_current_ca(&site);
}

/// An issuing-CA rotation: the root stays; nothing holds or chains to the old issuing CA.
fn intermediate_rotation(lab: &Lab, prober: &Prober) {
    let site = lab.site();
    let old = current_ca(&site);
    let phases = rotate_to_the_end(lab, prober, &["ca", "--intermediate"]);
    assert_eq!(
        phases,
        ["trust", "reissue", "retire"],
        "issuing CA rotation"
    );
    let new = current_ca(&site);
    assert_eq!(new[0], old[0], "an issuing CA rotation changed the root");
    assert_ne!(
        new[1], old[1],
        "the CA directory still holds the old issuing CA"
    );
    assert_nothing_from(&site, &old[1..], "old issuing CA");
    assert_leaves_from_current_ca(&site);
}

/// A key rotation: every key certfleet issues a certificate for is new.
fn key_rotation(lab: &Lab, prober: &Prober) {
    let site = lab.site();
    let before = deployed_keys(&site);
    let phases = rotate_to_the_end(lab, prober, &["keys"]);
    assert!(
        !phases.is_empty()
            && phases
                .iter()
                .all(|p| ["trust", "reissue", "retire"].contains(&p.as_str())),
        "key rotation phases: {phases:?}"
    );
    let after = deployed_keys(&site);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (file, key) in &before {
        assert_ne!(
            Some(key),
            after.get(file),
            "{file}: the key was not replaced"
        );
    }
}

/// Stops the prober and asserts that no handshake failed.
pub(super) fn assert_no_failed_handshake(example: &str, prober: Prober) {
    let tally = prober.stop();
    eprintln!("{example}: {}", tally.summary());
    assert_eq!(tally.failures(), 0, "{example}: {}", tally.summary());
    assert!(
        tally.attempts() >= 200,
        "{example}: too few handshakes to judge: {}",
        tally.summary()
    );
}

/// Root, issuing CA and key rotations one after the other on `example` under one prober.
fn every_rotation_without_a_failed_handshake(example: &str) {
    let lab = Lab::new(example);
    let prober = lab.prober();
    assert_probes_most_connections(&lab, &prober);
    between_steps(&prober);
    root_rotation(&lab, &prober);
    intermediate_rotation(&lab, &prober);
    key_rotation(&lab, &prober);
    assert_no_failed_handshake(example, prober);
}

#[test]
fn contact_center_rotates_its_ca_and_keys_without_a_failed_handshake() {
    every_rotation_without_a_failed_handshake("contact-center.toml");
}

#[test]
fn interaction_recording_rotates_its_ca_and_keys_without_a_failed_handshake() {
    every_rotation_without_a_failed_handshake("interaction-recording.toml");
}

#[test]
fn quality_management_rotates_its_ca_and_keys_without_a_failed_handshake() {
    every_rotation_without_a_failed_handshake("quality-management.toml");
}

#[test]
fn softphone_platform_rotates_its_ca_and_keys_without_a_failed_handshake() {
    every_rotation_without_a_failed_handshake("softphone-platform.toml");
}

/// The media gateways are self-signed: no CA to rotate, their keys rotate with the
/// clients' truststores first.
#[test]
fn media_gateway_rotates_its_self_signed_keys_without_a_failed_handshake() {
    let lab = Lab::new("media-gateway.toml");
    let prober = lab.prober();
    assert_probes_most_connections(&lab, &prober);
    between_steps(&prober);
    key_rotation(&lab, &prober);
    assert_no_failed_handshake("media-gateway.toml", prober);
}

/// `apply` once, expecting the held reload to fail (exit 1) and the rotation to stay in
/// `phase`.
fn apply_held(lab: &Lab, phase_now: &str) {
    let out = lab.apply();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the apply with a failing reload did not report it\n{}",
        describe(&out)
    );
    assert_eq!(
        phase(lab).as_deref(),
        Some(phase_now),
        "a failed reload moved the rotation on"
    );
}

/// A reload that fails in phase 2 holds the rotation there (the next apply retries it,
/// and holds again while it fails); fixed, the rotation resumes and finishes.
#[test]
fn a_rotation_holds_on_a_failed_reload_and_resumes_without_a_failed_handshake() {
    let example = "quality-management.toml";
    let lab = Lab::new(example);
    let site = lab.site();
    let old = current_ca(&site);
    let prober = lab.prober();
    assert_probes_most_connections(&lab, &prober);
    between_steps(&prober);

    prober.stage("rotate ca");
    lab.rotate(&["ca"]);
    prober.stage("phase trust");
    lab.apply_ok("the apply in phase trust");
    between_steps(&prober);
    assert_eq!(phase(&lab).as_deref(), Some("reissue"));

    prober.stage("phase reissue, recording-1's reload failing");
    lab.markers.hold("recording-1");
    apply_held(&lab, "reissue");
    between_steps(&prober);
    apply_held(&lab, "reissue");
    between_steps(&prober);

    prober.stage("phase reissue, recording-1's reload fixed");
    lab.markers.release("recording-1");
    let phases = run_to_the_end(&lab, &prober, "the resumed rotation");
    assert_eq!(phases, ["reissue", "retire"]);
    assert_nothing_from(&site, &old, "old root and issuing CA");
    assert_leaves_from_current_ca(&site);
    assert_no_failed_handshake(example, prober);
}

/// A root rotation rolled back in phase 2, after some services already serve leaves of
/// the new CA (one reload failing): the rollback re-issues them from the old CA, then
/// takes the new CA out of every truststore; nothing holds or chains to the abandoned CA.
#[test]
fn a_root_rotation_rolls_back_without_a_failed_handshake() {
    let example = "interaction-recording.toml";
    let lab = Lab::new(example);
    let site = lab.site();
    let old = current_ca(&site);
    let prober = lab.prober();
    assert_probes_most_connections(&lab, &prober);
    between_steps(&prober);

    prober.stage("rotate ca");
    lab.rotate(&["ca"]);
    let abandoned = next_ca(&site);
    assert_eq!(
        abandoned.len(),
        2,
        "rotate ca made no new root and issuing CA"
    );
    prober.stage("phase trust");
    lab.apply_ok("the apply in phase trust");
    between_steps(&prober);

    prober.stage("phase reissue, elasticsearch's reload failing");
    lab.markers.hold("elasticsearch");
    apply_held(&lab, "reissue");
    between_steps(&prober);

    prober.stage("rotate ca --rollback");
    lab.rotate(&["ca", "--rollback"]);
    lab.markers.release("elasticsearch");
    let phases = run_to_the_end(&lab, &prober, "the rollback");
    assert_eq!(phases, ["rollback-reissue", "rollback-trust"]);
    assert_eq!(
        current_ca(&site),
        old,
        "the rollback did not keep the old CA"
    );
    assert_nothing_from(&site, &abandoned, "abandoned root and issuing CA");
    assert_leaves_from_current_ca(&site);
    assert_no_failed_handshake(example, prober);
}
