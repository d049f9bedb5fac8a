//! What the rollout test judges a wave by: the audit log's turns one at a time, what
//! the server showed of the nodes during the wave, the leaf changes the prober saw set
//! beside the audit log, and the agents' families of a metrics scrape.

use super::fixture::{Record, PLATFORM};
use super::prober::{change, Attempt};
use super::watch::Shown;
use std::collections::BTreeSet;

/// What `shown` says of node `i` (n1 is 0).
pub fn of(shown: &[Shown], i: usize) -> &Shown {
    let name = format!("n{}", i + 1);
    shown
        .iter()
        .find(|s| s.node == name)
        .unwrap_or_else(|| panic!("{name} not shown: {shown:?}"))
}

/// Checks that the rollout records give at most one turn at a time: a turn only when no
/// other is open, ended by its service's `rollout.done` (or `rollout.halt`).
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
            "rollout.halt" => assert_eq!(open, Some(object), "{audit:?}"),
            other => panic!("unexpected rollout action {other}: {audit:?}"),
        }
    }
}

/// The node (0 to 2) of a record's `service shop/web-N`.
pub fn node_of(record: &Record) -> usize {
    let n: usize = record
        .object
        .strip_prefix(&format!("service {PLATFORM}/web-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a service of the group: {record:?}"));
    n - 1
}

/// Checks one `certfleet nodes` taken during the first wave: each node's files hold its
/// old or its new certificate, the renewed nodes are the first ones of `order`, and at
/// most one node is not current.
pub fn assert_shown_in_order(shown: &[Shown], old: &[String], new: &[String], order: &[usize]) {
    let mut renewed = BTreeSet::new();
    for i in 0..3 {
        let deployed = &of(shown, i).deployed;
        if deployed.eq_ignore_ascii_case(&new[i]) {
            renewed.insert(i);
        } else {
            assert!(
                deployed.eq_ignore_ascii_case(&old[i]),
                "n{}'s files hold neither its old nor its new certificate: {shown:?}",
                i + 1
            );
        }
    }
    let head: BTreeSet<usize> = order[..renewed.len()].iter().copied().collect();
    assert_eq!(
        renewed, head,
        "the renewed nodes are not the first of the audit's order {order:?}: {shown:?}"
    );
    let busy = shown.iter().filter(|s| s.state != "current").count();
    assert!(busy <= 1, "two nodes not current at once: {shown:?}");
    // A node is given its new certificate on its turn: the renewed ones, and at most the
    // one whose turn it is.
    let given: BTreeSet<usize> = (0..3)
        .filter(|&i| of(shown, i).desired.eq_ignore_ascii_case(&new[i]))
        .collect();
    assert!(
        given.is_superset(&renewed) && given.len() <= renewed.len() + 1,
        "{shown:?}"
    );
    let head: BTreeSet<usize> = order[..given.len()].iter().copied().collect();
    assert_eq!(
        given, head,
        "given out of the audit's order {order:?}: {shown:?}"
    );
}

/// Checks what the prober saw during the first wave: every node's leaf changed from
/// `old` to `new` (every attempt served one of them, the first the old one and the last
/// the new one), no node was served its new leaf before its turn in `audit`, and each
/// node of `order` was served its new leaf only after the one before it had last been
/// served its old one.
pub fn assert_changes_in_order(
    wave: &[Vec<Attempt>],
    old: &[String],
    new: &[String],
    order: &[usize],
    audit: &[Record],
) {
    let changes: Vec<_> = (0..3)
        .map(|i| change(&wave[i], &old[i], &new[i]).unwrap_or_else(|e| panic!("n{}: {e}", i + 1)))
        .collect();
    for (i, c) in changes.iter().enumerate() {
        let mixed = wave[i]
            .iter()
            .filter(|a| a.start > c.first_new.start && a.result.as_deref() == Ok(&old[i]))
            .count();
        eprintln!(
            "n{}: the old leaf until {}, the new from {}; {mixed} answer(s) with the old after the first with the new",
            i + 1,
            c.last_old.end_at,
            c.first_new.end_at
        );
    }
    for (k, &i) in order.iter().enumerate() {
        let turn = audit
            .iter()
            .find(|r| r.action == "rollout.turn" && node_of(r) == i)
            .unwrap();
        assert!(
            changes[i].first_new.end_at >= turn.at,
            "n{} served its new leaf before its turn: {:?} {turn:?}",
            i + 1,
            changes[i].first_new
        );
        let Some(&next) = order.get(k + 1) else {
            continue;
        };
        let last_old = &changes[i].last_old;
        assert!(
            changes[next].first_new.end >= last_old.start,
            "n{} served its new leaf while n{} still served its old one: {:?} {last_old:?}",
            next + 1,
            i + 1,
            changes[next].first_new
        );
    }
}

/// The metric families of an OpenMetrics scrape whose names start with `prefix` (their
/// `# HELP`, `# TYPE` and samples), closed by `# EOF`.
pub fn families(scrape: &str, prefix: &str) -> String {
    let mut text: String = scrape
        .lines()
        .filter(|line| {
            let name = line
                .strip_prefix("# HELP ")
                .or_else(|| line.strip_prefix("# TYPE "))
                .unwrap_or(line);
            name.starts_with(prefix)
        })
        .map(|line| format!("{line}\n"))
        .collect();
    text.push_str("# EOF\n");
    text
}
