//! Renewal waves through `certfleet agent` on three nodes of one service group
//! (127.0.0.1–127.0.0.3, an nginx each, reloaded gracefully by the node's hook), served
//! by a real `certfleet serve`, while a prober makes full TLS handshakes to every
//! service all along (chain verified against the platform's root, the service's SNI):
//!
//! - `certfleet renew` of the three services renews them one node at a time
//!   (`max_unavailable = 1`): not one handshake fails over the whole wave; the audit log
//!   gives each turn only once the one before is done; the prober sees each service's
//!   leaf go from the old to the new (first the old, last the new, no other), never
//!   before its node's turn and in the audit log's order; every `certfleet nodes` taken during the wave shows at most one
//!   node not current and the renewed nodes always a head of that order, and at the end
//!   every node current with the leaf it serves; nginx was only ever reloaded (its master
//!   process is the one that started);
//! - in a second wave a node whose hook refuses the new certificate halts the group:
//!   a `rollout_halted` alert names platform, group, node, service and error,
//!   `certfleet nodes` shows the node `failed`, its agent puts the previous files back
//!   and its hook reloads nginx with them, it still serves its previous certificate, and
//!   no later node of the group is renewed until `certfleet rollout resume`, after which
//!   the others are — with not one failed handshake through the halt and the rollback;
//! - while the group is halted, the server's `GET /metrics` carries the agents' series
//!   (every node's last contact, each service's deployment, the halted group);
//!   `promtool check metrics` passes the whole scrape.

pub(crate) mod fixture;
mod judge;
mod prober;
mod watch;

use fixture::{promtool_check, wait_until, Platform, Record, GROUP, HOOK, PLATFORM};
use judge::{
    assert_changes_in_order, assert_one_at_a_time, assert_shown_in_order, families, node_of, of,
};
use prober::{between, Attempt, Prober};
use std::collections::BTreeSet;
use std::time::Instant;
use watch::Shown;

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

/// Whether every node of `which` is shown `current` and serves a certificate other than
/// `before`'s.
fn renewed(platform: &Platform, shown: &[Shown], before: &[String], which: &[usize]) -> bool {
    let client = crate::support::tls_client::HandshakeClient::new(&platform.root);
    which.iter().all(|&i| {
        let node = &platform.nodes[i];
        let now = client.handshake(node.addr, &node.server_name);
        of(shown, i).state == "current" && now.is_ok_and(|sha| sha != before[i])
    })
}

/// Asks for a renewal of every service of the group.
fn renew_all(platform: &Platform) {
    for n in 1..=3 {
        let said = platform.admin(&["renew", &format!("web-{n}"), "--platform", PLATFORM]);
        assert!(said.contains("renewal asked for"), "{said}");
    }
}

#[test]
fn a_renewal_wave_goes_one_node_at_a_time_without_a_failed_handshake_and_a_failed_node_halts_its_group(
) {
    let platform = Platform::start();
    let all = [0, 1, 2];
    // First deployment: every node gets its first certificate.
    let none = vec![String::new(); 3];
    wait_until(
        "the first deployment on every node",
        || platform.logs(),
        || renewed(&platform, &platform.shown(), &none, &all),
    );
    let first = served(&platform);
    let masters: Vec<String> = platform
        .nodes
        .iter()
        .map(|n| n.nginx.master_pid())
        .collect();
    let targets: Vec<_> = platform
        .nodes
        .iter()
        .map(|n| (n.addr, n.server_name.clone()))
        .collect();
    let wave1_start = Instant::now();
    let probe = Prober::start(&platform.root, &targets);
    // Each service is seen with its old leaf before the renewals are asked for.
    probe.wait_for_first_attempts();

    // Wave 1: all three renew, one at a time; what `certfleet nodes` prints is watched
    // all along.
    let audit_before = platform.rollout_audit().len();
    let watcher = platform.watch_nodes();
    renew_all(&platform);
    // Renewed on every node, and the last node's report (its turn's completion) is in.
    wait_until(
        "the first renewal wave",
        || platform.logs(),
        || {
            renewed(&platform, &platform.shown(), &first, &all)
                && platform.rollout_audit().len() >= audit_before + 6
        },
    );
    let mut watched = watcher.finish();
    watched.push(platform.shown());
    let wave1_end = Instant::now();
    let second = served(&platform);
    let wave1: Vec<Record> = platform.rollout_audit()[audit_before..].to_vec();
    assert_one_at_a_time(&wave1);
    assert_eq!(wave1.len(), 6, "three turns, three completions: {wave1:?}");
    let order: Vec<usize> = wave1
        .iter()
        .filter(|r| r.action == "rollout.turn")
        .map(node_of)
        .collect();
    assert_eq!(
        order.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from(all),
        "{wave1:?}"
    );
    for pair in wave1.windows(2) {
        assert!(pair[0].at <= pair[1].at, "{wave1:?}");
    }
    for shown in &watched {
        assert_shown_in_order(shown, &first, &second, &order);
    }
    eprintln!(
        "wave 1: turns in the order {:?}, {} views of certfleet nodes",
        order
            .iter()
            .map(|i| format!("n{}", i + 1))
            .collect::<Vec<_>>(),
        watched.len()
    );
    // At the end every node reported after its turn began.
    let last = watched.last().unwrap();
    for record in wave1.iter().filter(|r| r.action == "rollout.turn") {
        let reported = of(last, node_of(record)).last_report;
        assert!(
            reported.is_some_and(|at| at >= record.at),
            "{record:?}: {last:?}"
        );
    }
    let table = platform.table();
    for (i, sha) in second.iter().enumerate() {
        let row = table
            .iter()
            .find(|row| row.get(1).map(String::as_str) == Some(&format!("n{}", i + 1)))
            .unwrap_or_else(|| panic!("n{} not in the table: {table:?}", i + 1));
        assert_eq!(row[0], PLATFORM, "{row:?}");
        assert_eq!(row[2], format!("web-{}", i + 1), "{row:?}");
        assert_eq!(row[3], "current", "{row:?}");
        assert_eq!(row[5].to_uppercase(), sha[..12], "{row:?}");
    }

    // Wave 2: n3's hook refuses any certificate but the one it serves.
    let failing = &platform.nodes[2];
    std::fs::write(failing.keep_file(), &second[2]).unwrap();
    let wave2_start = Instant::now();
    let audit_before = platform.rollout_audit().len();
    renew_all(&platform);
    wait_until(
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
        HOOK.to_owned(),
    ] {
        assert!(alert.contains(&part), "{part} not in: {alert}");
    }
    wait_until(
        "node n3 shown failed",
        || format!("{:?}", platform.shown()),
        || of(&platform.shown(), 2).state == "failed",
    );
    // The agent put the previous files back and the hook reloaded nginx with them.
    wait_until(
        "n3's hook run again after its refusal",
        || format!("{:?}\n{}", failing.hook_runs(), platform.logs()),
        || {
            let runs = failing.hook_runs();
            runs.iter()
                .position(|r| r == "refused")
                .is_some_and(|refused| runs[refused..].iter().any(|r| r == "reloaded"))
        },
    );
    // n3 still serves its previous certificate; the nodes renewed before it have their
    // new ones, and no node is given a turn after the halt.
    let halted = served(&platform);
    assert_eq!(halted[2], second[2], "n3 must keep serving its certificate");
    let wave2: Vec<Record> = platform.rollout_audit()[audit_before..].to_vec();
    assert_one_at_a_time(&wave2);
    let last = wave2.last().map(|r| (r.action.as_str(), r.object.as_str()));
    let web3 = format!("service {PLATFORM}/web-3");
    assert_eq!(last, Some(("rollout.halt", web3.as_str())), "{wave2:?}");
    let renewed_before: Vec<usize> = (0..2).filter(|&i| halted[i] != second[i]).collect();
    let waiting: Vec<usize> = (0..2).filter(|&i| halted[i] == second[i]).collect();
    assert_eq!(
        wave2.iter().filter(|r| r.action == "rollout.done").count(),
        renewed_before.len(),
        "{wave2:?}"
    );

    // While halted: the agents' series are scraped, and promtool accepts the scrape.
    let metrics = platform.metrics();
    for line in [
        format!("certfleet_agent_rollouts_halted{{platform=\"{PLATFORM}\",group=\"{GROUP}\"}} 1"),
        format!(
            "certfleet_agent_deployment_current{{platform=\"{PLATFORM}\",node=\"n3\",service=\"web-3\"}} 0"
        ),
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} not in:\n{metrics}");
    }
    for n in 1..=3 {
        let seen = format!(
            "certfleet_agent_last_seen_timestamp_seconds{{platform=\"{PLATFORM}\",node=\"n{n}\"}} "
        );
        assert!(metrics.contains(&seen), "{seen} not in:\n{metrics}");
    }
    // promtool reads the whole scrape (the Prometheus text format, as a reader that does
    // not ask for OpenMetrics gets it) and passes it, lint included; the agents' series
    // pass alone too.
    let verdict = promtool_check(&metrics);
    let findings = String::from_utf8_lossy(&verdict.stderr).into_owned();
    assert!(
        verdict.status.success() && findings.trim().is_empty(),
        "promtool check metrics: {findings}\n{metrics}"
    );
    let agents_only = promtool_check(&families(&metrics, "certfleet_agent_"));
    assert!(
        agents_only.status.success(),
        "promtool check metrics refused the agents' series: {}",
        crate::support::run::describe(&agents_only)
    );

    // Resumed: the nodes still waiting renew; n3 keeps its certificate.
    let said = platform.admin(&["rollout", "resume", GROUP, "--platform", PLATFORM]);
    assert!(said.contains("resumed"), "{said}");
    assert!(said.contains("node n3"), "{said}");
    wait_until(
        "the nodes waiting behind the halt renewed",
        || platform.logs(),
        || renewed(&platform, &platform.shown(), &second, &waiting),
    );
    let third = served(&platform);
    let attempts = probe.finish();
    assert_eq!(third[2], second[2]);

    // All along: not one handshake failed.
    let total: usize = attempts.iter().map(Vec::len).sum();
    let failed: Vec<(usize, &Attempt)> = attempts
        .iter()
        .enumerate()
        .flat_map(|(i, list)| list.iter().map(move |a| (i, a)))
        .filter(|(_, a)| a.result.is_err())
        .collect();
    eprintln!(
        "prober: {total} handshakes ({} per node), {} failed",
        attempts
            .iter()
            .map(|l| l.len().to_string())
            .collect::<Vec<_>>()
            .join("/"),
        failed.len()
    );
    assert!(failed.is_empty(), "failed handshakes: {failed:?}");

    // Wave 1 as the prober saw it: one change per node, in the audit's order.
    let wave: Vec<Vec<Attempt>> = attempts
        .iter()
        .map(|list| between(list, wave1_start, wave1_end))
        .collect();
    assert_changes_in_order(&wave, &first, &second, &order, &wave1);
    // Wave 2 on: each node served its wave-1 leaf or its last one, n3 only its own.
    for (i, list) in attempts.iter().enumerate() {
        for a in between(list, wave2_start, Instant::now()) {
            let sha = a.result.as_deref().unwrap();
            assert!(
                sha == second[i] || sha == third[i],
                "n{} served {sha} after the first wave",
                i + 1
            );
        }
    }
    // nginx was reloaded, never restarted.
    for (node, master) in platform.nodes.iter().zip(&masters) {
        assert_eq!(&node.nginx.master_pid(), master, "{}", node.name);
        assert!(node.nginx.reloads() >= 2, "{}", node.nginx.log());
    }
}
