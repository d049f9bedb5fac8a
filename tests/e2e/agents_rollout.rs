//! Renewal waves through `certfleet agent` on three nodes of one service group
//! (127.0.0.1–127.0.0.3, an `openssl s_server` each, restarted by the node's hook),
//! served by a real `certfleet serve`, while a prober makes TLS handshakes to every
//! service all along:
//!
//! - `certfleet renew` of the three services renews them one node at a time
//!   (`max_unavailable = 1`): the audit log shows each turn completed before the next
//!   is given, no handshake ever fails for a certificate reason, and never are two
//!   services down at the same moment;
//! - in a second wave a node whose hook refuses the new certificate halts the group:
//!   a `rollout_halted` alert names platform, group, node, service and error,
//!   `certfleet nodes` shows the node `failed`, it still serves its previous certificate,
//!   and no later node of the group is renewed until `certfleet rollout resume`, after
//!   which the others are.

mod fixture;
mod prober;

use fixture::{Platform, GROUP, PLATFORM};
use prober::{overlapping_failures, Prober};
use std::collections::BTreeSet;

/// The SHA-256 each service serves now (upper-case hex), by one handshake each.
fn served(platform: &Platform) -> Vec<String> {
    let client = crate::support::tls_client::HandshakeClient::new(&platform.root);
    platform
        .nodes
        .iter()
        .map(|node| {
            client
                .handshake(node.addr, &node.server_name)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", node.name, platform.logs()))
        })
        .collect()
}

/// Whether every node reports `current` and serves a certificate other than `before`'s
/// (per node, for the nodes in `which`).
fn renewed(platform: &Platform, before: &[String], which: &[usize]) -> bool {
    let states = platform.states();
    let client = crate::support::tls_client::HandshakeClient::new(&platform.root);
    which.iter().all(|&i| {
        let node = &platform.nodes[i];
        let state_ok = states
            .iter()
            .any(|(name, state, _)| *name == node.name && state == "current");
        let now = client.handshake(node.addr, &node.server_name);
        state_ok && now.is_ok_and(|sha| sha != before[i])
    })
}

/// Asks for a renewal of every service of the group.
fn renew_all(platform: &Platform) {
    for n in 1..=3 {
        let said = platform.admin(&["renew", &format!("web-{n}"), "--platform", PLATFORM]);
        assert!(said.contains("renewal asked for"), "{said}");
    }
}

/// The audit records `(action, service)` of the rollout from index `from`, checked to
/// give at most one turn at a time: a turn only when no other is open, ended by its
/// service's `rollout.done` (or `rollout.halt`).
fn assert_one_at_a_time(audit: &[(String, String)]) {
    let mut open: Option<&str> = None;
    for (action, object) in audit {
        match action.as_str() {
            "rollout.turn" => {
                assert!(
                    open.is_none(),
                    "{object} got a turn while {open:?} was updating: {audit:?}"
                );
                open = Some(object);
            }
            "rollout.done" => {
                assert_eq!(open, Some(object.as_str()), "{audit:?}");
                open = None;
            }
            "rollout.halt" => assert_eq!(open, Some(object.as_str()), "{audit:?}"),
            other => panic!("unexpected rollout action {other}: {audit:?}"),
        }
    }
}

#[test]
fn a_renewal_wave_goes_one_node_at_a_time_and_a_failed_node_halts_its_group() {
    let platform = Platform::start();
    let all = [0, 1, 2];
    // First deployment: every node gets its first certificate.
    let none = vec![String::new(); 3];
    fixture::wait_until(
        "the first deployment on every node",
        || platform.logs(),
        || renewed(&platform, &none, &all),
    );
    let first = served(&platform);
    let targets: Vec<_> = platform
        .nodes
        .iter()
        .map(|n| (n.addr, n.server_name.clone()))
        .collect();
    let probe = Prober::start(&platform.root, &targets);

    // Wave 1: all three renew, one at a time.
    let audit_before = platform.rollout_audit().len();
    renew_all(&platform);
    // Renewed on every node, and the last node's report (its turn's completion) is in.
    fixture::wait_until(
        "the first renewal wave",
        || platform.logs(),
        || renewed(&platform, &first, &all) && platform.rollout_audit().len() >= audit_before + 6,
    );
    let second = served(&platform);
    let wave1: Vec<(String, String)> = platform.rollout_audit()[audit_before..].to_vec();
    assert_one_at_a_time(&wave1);
    let turns: BTreeSet<&str> = wave1
        .iter()
        .filter(|(action, _)| action == "rollout.turn")
        .map(|(_, object)| object.as_str())
        .collect();
    assert_eq!(
        turns,
        BTreeSet::from([
            "service shop/web-1",
            "service shop/web-2",
            "service shop/web-3"
        ]),
        "{wave1:?}"
    );
    assert_eq!(wave1.len(), 6, "three turns, three completions: {wave1:?}");

    // Wave 2: n3's hook refuses any certificate but the one it serves.
    let failing = &platform.nodes[2];
    std::fs::write(failing.keep_file(), &second[2]).unwrap();
    let audit_before = platform.rollout_audit().len();
    renew_all(&platform);
    fixture::wait_until(
        "a rollout_halted alert",
        || platform.logs(),
        || {
            let alerts = platform.api("GET", "/api/alerts").json();
            alerts["recent"]
                .as_array()
                .is_some_and(|list| list.iter().any(|a| a["kind"] == "rollout_halted"))
        },
    );
    let alerts = platform.api("GET", "/api/alerts").json();
    let alert = alerts["recent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "rollout_halted")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    for part in [
        format!("group {GROUP}"),
        format!("platform {PLATFORM}"),
        "node n3".to_owned(),
        "service web-3".to_owned(),
        "restart-web".to_owned(),
    ] {
        assert!(alert.contains(&part), "{part} not in: {alert}");
    }
    fixture::wait_until(
        "node n3 shown failed",
        || format!("{:?}", platform.states()),
        || {
            platform
                .states()
                .iter()
                .any(|(name, state, _)| name == "n3" && state == "failed")
        },
    );
    // n3 still serves its previous certificate; the nodes renewed before it have their
    // new ones, and no node is given a turn after the halt.
    let halted = served(&platform);
    assert_eq!(halted[2], second[2], "n3 must keep serving its certificate");
    let wave2: Vec<(String, String)> = platform.rollout_audit()[audit_before..].to_vec();
    assert_one_at_a_time(&wave2);
    assert_eq!(
        wave2.last().map(|(a, o)| (a.as_str(), o.as_str())),
        Some(("rollout.halt", "service shop/web-3")),
        "{wave2:?}"
    );
    let renewed_before: Vec<usize> = (0..2).filter(|&i| halted[i] != second[i]).collect();
    let waiting: Vec<usize> = (0..2).filter(|&i| halted[i] == second[i]).collect();
    assert_eq!(
        wave2.iter().filter(|(a, _)| a == "rollout.done").count(),
        renewed_before.len(),
        "{wave2:?}"
    );

    // Resumed: the nodes still waiting renew; n3 keeps its certificate.
    let said = platform.admin(&["rollout", "resume", GROUP, "--platform", PLATFORM]);
    assert!(said.contains("resumed"), "{said}");
    assert!(said.contains("node n3"), "{said}");
    fixture::wait_until(
        "the nodes waiting behind the halt renewed",
        || platform.logs(),
        || renewed(&platform, &second, &waiting),
    );
    let attempts = probe.finish();
    assert_eq!(served(&platform)[2], second[2]);

    // All along: no handshake failed for a certificate reason, and never were two
    // services down at the same moment.
    for (i, list) in attempts.iter().enumerate() {
        assert!(
            list.iter().filter(|a| a.result.is_ok()).count() > 0,
            "no handshake to node {} succeeded",
            i + 1
        );
        let bad: Vec<&String> = list
            .iter()
            .filter_map(|a| a.result.as_ref().err())
            .filter(|e| e.contains("certificate") || e.contains("Certificate"))
            .collect();
        assert!(bad.is_empty(), "node {}: {bad:?}", i + 1);
    }
    if let Some((i, a, j, b)) = overlapping_failures(&attempts) {
        panic!(
            "nodes {} and {} were down at the same time: {:?} and {:?}",
            i + 1,
            j + 1,
            a.result,
            b.result
        );
    }
}
