//! A renewal wave of the agents' cluster test: `certfleet renew` of the three services,
//! each asked through the server named, watched all along (the rollout record in etcd:
//! never two turns, never halted; `certfleet nodes --json`: never two nodes not
//! current), with something done as soon as its first turn is given, until every node
//! is current with a new certificate; then judged by the audit log's rollout records.

use super::fixture::{stored_rollout, wait_until, Member, Record, Site};
use crate::agents::fixture::PLATFORM;
use crate::support::etcd_cluster::EtcdCluster;
use crate::support::openssl::sha256_fingerprint;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What `certfleet nodes --json` shows of each node's one service: (node, state,
/// deployed SHA-256).
pub fn shown(nodes: &serde_json::Value) -> Vec<(String, String, String)> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    nodes["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {nodes}"))
        .iter()
        .map(|node| {
            let service = &node["services"][0];
            (
                text(&node["node"]),
                text(&service["state"]),
                text(&service["deployed"]),
            )
        })
        .collect()
}

/// Whether `member` shows every site `current` with the certificate its files hold, and
/// that certificate differs from `before` (SHA-256 per site; empty: any).
pub fn all_current(member: &Member, sites: &[Site], before: &[String]) -> bool {
    let now = shown(&member.nodes());
    sites.iter().zip(before).all(|(site, old)| {
        let crt = site.crt();
        let Some((_, state, deployed)) = now.iter().find(|(node, _, _)| *node == site.name) else {
            return false;
        };
        crt.exists()
            && state == "current"
            && deployed.eq_ignore_ascii_case(&sha256_fingerprint(&crt))
            && !deployed.eq_ignore_ascii_case(old)
    })
}

/// The SHA-256 of every site's deployed certificate.
pub fn deployed(sites: &[Site]) -> Vec<String> {
    sites.iter().map(|s| sha256_fingerprint(&s.crt())).collect()
}

/// Checks that the rollout records give one turn at a time: a turn only when no other
/// is open, each ended by its own service's `rollout.done`, no halt, nothing left open.
pub fn assert_one_at_a_time(audit: &[Record]) {
    let mut open: Option<&str> = None;
    for record in audit {
        let object = record.object.as_str();
        match record.action.as_str() {
            "rollout.turn" => {
                assert!(
                    open.is_none(),
                    "{object} got a turn while {open:?} was updating: {audit:?}"
                );
                open = Some(object);
            }
            "rollout.done" => {
                assert_eq!(open, Some(object), "{audit:?}");
                open = None;
            }
            other => panic!("unexpected rollout action {other}: {audit:?}"),
        }
    }
    assert!(open.is_none(), "a turn is still open: {audit:?}");
    for pair in audit.windows(2) {
        assert!(pair[0].at <= pair[1].at, "out of order: {audit:?}");
    }
}

/// Whether `list` gives `site` a turn.
pub fn turned(list: &[Record], site: &Site) -> bool {
    let object = format!("service {PLATFORM}/{}", site.service());
    list.iter()
        .any(|r| r.action == "rollout.turn" && r.object == object)
}

/// Prints the wave's records, marking the one before which `mark_before` happened.
pub fn print(wave: &[Record], mark_before: Option<(usize, &str)>) {
    for (i, record) in wave.iter().enumerate() {
        let mark = match mark_before {
            Some((at, what)) if at == i => format!("  ({what} before this one)"),
            _ => String::new(),
        };
        println!("{} {} {}{mark}", record.at, record.action, record.object);
    }
}

/// What the watcher of a wave saw.
#[derive(Debug, Default)]
struct Observations {
    /// Reads of the rollout record in etcd.
    records: usize,
    /// Of them, those that showed a turn (never more than one).
    with_a_turn: usize,
    /// Views of `certfleet nodes --json` (never two nodes not current).
    views: usize,
}

/// Asks for the renewal of `web-N` through each `(N, server)` of `asks`, runs
/// `on_first_turn` as soon as the audit log (read through `judge`) shows the wave's
/// first turn, and waits until `judge` shows every site current with a certificate
/// other than `before`'s and the wave's six records (three turns, three completions)
/// are written. Returns what `on_first_turn` returned and the wave's records, which are
/// checked one turn at a time, each site once.
pub fn run<T>(
    cluster: &EtcdCluster,
    judge: &Member,
    asks: [(usize, &Member); 3],
    sites: &[Site],
    before: &[String],
    context: impl Fn() -> String + Copy,
    on_first_turn: impl FnOnce() -> T,
) -> (T, Vec<Record>) {
    let audit_before = judge.rollout_audit().len();
    let stop = AtomicBool::new(false);
    let (done, observations) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut seen = Observations::default();
            while !stop.load(Ordering::Relaxed) {
                match stored_rollout(cluster) {
                    Ok(Some(record)) => {
                        let turns = record["turns"].as_array().map_or(0, Vec::len);
                        assert!(turns <= 1, "two turns at once in etcd: {record}");
                        assert!(record["halted"].is_null(), "the group halted: {record}");
                        seen.records += 1;
                        seen.with_a_turn += turns;
                    }
                    Ok(None) => seen.records += 1,
                    Err(why) => eprintln!("etcd did not answer this time: {why}"),
                }
                let now = shown(&judge.nodes());
                let busy = now
                    .iter()
                    .filter(|(_, state, _)| state != "current")
                    .count();
                assert!(busy <= 1, "two nodes not current at once: {now:?}");
                seen.views += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            seen
        });
        for (n, member) in asks {
            let said = member.admin(&["renew", &format!("web-{n}"), "--platform", PLATFORM]);
            assert!(said.contains("renewal asked for"), "{said}");
        }
        wait_until("the wave's first turn", context, || {
            judge.rollout_audit()[audit_before..]
                .iter()
                .any(|r| r.action == "rollout.turn")
        });
        let done = on_first_turn();
        wait_until("the wave's end", context, || {
            all_current(judge, sites, before) && judge.rollout_audit().len() >= audit_before + 6
        });
        stop.store(true, Ordering::Relaxed);
        (done, watcher.join().expect("the watcher failed"))
    });
    println!("during the wave: {observations:?}");
    assert!(
        observations.views > 0 && observations.with_a_turn > 0,
        "the wave was not watched: {observations:?}"
    );
    let wave = judge.rollout_audit()[audit_before..].to_vec();
    assert_one_at_a_time(&wave);
    assert_eq!(wave.len(), 6, "three turns, three completions: {wave:?}");
    for site in sites {
        assert!(turned(&wave, site), "{} had no turn: {wave:?}", site.name);
    }
    (done, wave)
}
