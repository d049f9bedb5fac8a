//! The prober's own proof, without any rotation: on each example, every certificate
//! certfleet issues is re-issued by one apply (a name added to each service) while every
//! connection handshakes, and no handshake fails, since neither the issuers nor the keys
//! change. And the other way round: a new key on a self-signed gateway whose clients have
//! not reloaded their truststores yet does make handshakes fail, and the prober says so.

use super::lab::Lab;
use crate::support::prober::{services_mut, Prober};
use serde_json::Value;

/// Handshakes each connection makes in each stage of a test.
const ROUNDS: u64 = 15;

/// The services certfleet issues a certificate to (internal CA or self-signed).
fn issued_by_certfleet(model: &toml::Table) -> Vec<String> {
    let platform_ca = model["platform"]["ca"]
        .as_str()
        .unwrap_or("internal")
        .to_owned();
    model["service"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            let ca = s.get("ca").and_then(|c| c.as_str()).unwrap_or(&platform_ca);
            ca == "internal" || ca == "self-signed"
        })
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Adds the name `reissue.SERVICE.example` to every service certfleet issues to.
fn add_a_name(model: &mut toml::Table) {
    let issued = issued_by_certfleet(model);
    for service in services_mut(model) {
        let name = service["name"].as_str().unwrap().to_owned();
        if !issued.contains(&name) {
            continue;
        }
        let sans = service
            .entry("san")
            .or_insert_with(|| toml::Value::Array(Vec::new()))
            .as_array_mut()
            .unwrap();
        sans.push(toml::Value::String(format!("reissue.{name}.example")));
    }
}

/// The services an apply report issued, renewed or re-keyed.
fn reissued(report: &Value) -> Vec<String> {
    let mut services: Vec<String> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| matches!(c["action"].as_str(), Some("issue" | "renew" | "rekey")))
        .map(|c| c["service"].as_str().unwrap().to_owned())
        .collect();
    services.sort();
    services.dedup();
    services
}

/// Asserts that the prober plays most connections of the lab's model (at least three in
/// four: only those whose key or trust never reaches a node may be left out), and prints
/// the ones it does not.
pub(crate) fn assert_probes_most_connections(lab: &Lab, prober: &Prober) {
    let connections = lab.site().platform.connections.len();
    for (connection, reason) in prober.skipped() {
        eprintln!("not probed: {connection}: {reason}");
    }
    assert!(
        prober.probed().len() * 4 >= connections * 3 && !prober.probed().is_empty(),
        "the prober plays {:?} of the {connections} connections; not probed: {:?}",
        prober.probed(),
        prober.skipped()
    );
}

fn reissue_every_leaf_without_a_failed_handshake(example: &str) {
    let lab = Lab::new(example);
    let prober = lab.prober();
    assert_probes_most_connections(&lab, &prober);
    prober.stage("before the re-issue");
    prober.wait_for_rounds(ROUNDS);

    prober.stage("re-issue");
    let mut model = toml::Table::new();
    lab.rewrite(|m| {
        add_a_name(m);
        model = m.clone();
    });
    let report = lab.apply_ok("the apply that re-issues every certificate");
    let mut wanted = issued_by_certfleet(&model);
    wanted.sort();
    assert_eq!(
        reissued(&report),
        wanted,
        "the apply did not re-issue exactly the certificates certfleet issues:\n{report:#}"
    );
    prober.settle();
    prober.stage("after the re-issue");
    prober.wait_for_rounds(ROUNDS);

    let tally = prober.stop();
    eprintln!("{example}: {}", tally.summary());
    assert_eq!(tally.failures(), 0, "{example}: {}", tally.summary());
    assert!(
        tally.attempts() >= 100,
        "{example}: too few handshakes to judge: {}",
        tally.summary()
    );
    // Every connection to a re-issued server met its old and its new certificate.
    let site = lab.site();
    for connection in &tally.connections {
        let server = site
            .platform
            .connections
            .iter()
            .find(|c| crate::support::prober::connection_name(c) == connection.connection)
            .map(|c| c.to.clone())
            .unwrap();
        if wanted.contains(&server) {
            assert!(
                connection.server_leaves >= 2,
                "{example}: {} never met {server}'s new certificate: {}",
                connection.connection,
                tally.summary()
            );
        }
    }
}

#[test]
fn contact_center_reissues_every_leaf_without_a_failed_handshake() {
    reissue_every_leaf_without_a_failed_handshake("contact-center.toml");
}

#[test]
fn interaction_recording_reissues_every_leaf_without_a_failed_handshake() {
    reissue_every_leaf_without_a_failed_handshake("interaction-recording.toml");
}

#[test]
fn media_gateway_reissues_every_leaf_without_a_failed_handshake() {
    reissue_every_leaf_without_a_failed_handshake("media-gateway.toml");
}

#[test]
fn quality_management_reissues_every_leaf_without_a_failed_handshake() {
    reissue_every_leaf_without_a_failed_handshake("quality-management.toml");
}

#[test]
fn softphone_platform_reissues_every_leaf_without_a_failed_handshake() {
    reissue_every_leaf_without_a_failed_handshake("softphone-platform.toml");
}

/// A gateway's new key reaches its clients' truststores in the same apply; while the
/// clients' reloads fail they keep the old truststore and the prober must see handshakes
/// fail; once the reloads run again the failures stop.
#[test]
fn the_prober_sees_handshakes_fail_while_clients_trust_only_an_old_self_signed_key() {
    let lab = Lab::new("media-gateway.toml");
    let prober = lab.prober();
    assert_probes_most_connections(&lab, &prober);
    prober.wait_for_rounds(ROUNDS);
    let clients = ["control-studio-a", "control-studio-b", "newsroom-system"];
    for client in clients {
        lab.markers.hold(client);
    }
    prober.stage("new gateway key, clients not reloaded");
    lab.rewrite(|model| {
        for service in services_mut(model) {
            if service["name"].as_str() == Some("gateway-main") {
                service.insert("key".into(), toml::Value::String("ecdsa-p256".into()));
            }
        }
    });
    let held = lab.apply();
    assert_eq!(
        held.status.code(),
        Some(1),
        "the apply with failing client reloads did not report them\n{}",
        crate::support::run::describe(&held)
    );
    prober.settle();
    prober.wait_for_rounds(ROUNDS);
    let during = prober.tally();
    for connection in &during.connections {
        let to_main = connection.connection.ends_with("-> gateway-main");
        assert_eq!(
            connection.failures >= ROUNDS,
            to_main,
            "{}: the failures are not where the stale truststores are: {}",
            connection.connection,
            during.summary()
        );
    }

    for client in clients {
        lab.markers.release(client);
    }
    lab.apply_ok("the apply that runs the pending reloads");
    prober.settle();
    prober.stage("clients reloaded");
    // A handshake begun with a truststore from before the reload may still end badly.
    prober.wait_for_rounds(2);
    let before = prober.tally().failures();
    prober.wait_for_rounds(ROUNDS);
    let after = prober.stop();
    eprintln!(
        "media-gateway.toml, stale truststores: {} handshakes, {} failures while the clients had not reloaded, none after",
        after.attempts(),
        before
    );
    assert_eq!(
        after.failures(),
        before,
        "handshakes still failed once the clients had reloaded: {}",
        after.summary()
    );
}
