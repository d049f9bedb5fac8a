//! A node that applies another node's stored changes one by one (the tree patched in
//! place, the SNI index patched for the changed branches) serves exactly what a node
//! that rebuilds everything from the same records serves: after every step of seeded
//! random sequences of adds, deletes (single and recursive), moves, certificate sets
//! and removals and ACME changes, every name's resolution (exact, below a domain, under
//! no domain, no SNI) on a role with a certdir and one without is the same, reason and
//! all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::hub::CertificateHub;
use certfleet_edge::resolver::CertdirState;
use certfleet_edge::tree::records::DomainRecord;
use certfleet_edge::tree::{DomainTree, StoredChange};
use certfleet_testkit::bundle_pem;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A small deterministic generator (xorshift64*), so a failing seed can be replayed.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

const LABELS: [&str; 6] = ["a", "b", "c", "www", "api", "shop"];

/// Certificates for names the sequences make (some cover them, some do not).
fn certificates() -> Vec<String> {
    vec![
        bundle_pem(&["example.test", "*.example.test"]),
        bundle_pem(&["a.example.test"]),
        bundle_pem(&["*.a.example.test", "*.b.example.test"]),
        bundle_pem(&["other.test", "*.other.test"]),
        bundle_pem(&["www.shop.example.test"]),
    ]
}

/// The records of `tree`, by name.
fn records(tree: &DomainTree) -> BTreeMap<String, DomainRecord> {
    tree.to_records()
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect()
}

/// The store's changes from `before` to `after`: deletions deepest first (as a
/// recursive deletion writes them), then puts parents first.
fn changes(
    before: &BTreeMap<String, DomainRecord>,
    after: &DomainTree,
    removal: &[String],
) -> Vec<StoredChange> {
    let mut out: Vec<StoredChange> = removal
        .iter()
        .map(|name| StoredChange::Delete(name.clone()))
        .collect();
    let mut order: Vec<String> = after
        .master()
        .map(|m| m.name().to_owned())
        .into_iter()
        .collect();
    if let Some(master) = after.master() {
        order.extend(after.descendants(master.name()).unwrap());
    }
    for name in order {
        let record = after.get(&name).unwrap().to_record();
        if before.get(&name) != Some(&record) {
            out.push(StoredChange::Put(record));
        }
    }
    out
}

/// One random edit of `tree`; answers the names a recursive deletion removed, in order.
fn edit(tree: &mut DomainTree, dice: &mut Dice, pems: &[String]) -> Vec<String> {
    let names: Vec<String> = tree.iter().map(|d| d.name().to_owned()).collect();
    let pick = |dice: &mut Dice| names[dice.below(names.len())].clone();
    if names.is_empty() {
        tree.add("example.test", None).unwrap();
        return Vec::new();
    }
    match dice.below(10) {
        0..=2 => {
            let parent = pick(dice);
            let name = if dice.below(4) == 0 {
                format!("{}.other.test", LABELS[dice.below(LABELS.len())])
            } else {
                format!("{}.{parent}", LABELS[dice.below(LABELS.len())])
            };
            if name.len() < 200 {
                let _ = tree.add(&name, Some(&parent));
            }
        }
        3 => {
            let name = pick(dice);
            if let Ok(order) = tree.removal_order(&name) {
                if order.len() < 4 || dice.below(3) == 0 {
                    tree.remove_branch(&name, true).unwrap();
                    return order;
                }
            }
        }
        4 | 5 => {
            let _ = tree.move_under(&pick(dice), &pick(dice));
        }
        6 | 7 => {
            let pem = &pems[dice.below(pems.len())];
            tree.set_certificate(&pick(dice), pem, true).unwrap();
        }
        8 => {
            tree.clear_certificate(&pick(dice)).unwrap();
        }
        _ => {
            let _ = tree.set_acme(&pick(dice), dice.below(2) == 0, Some("ops@example.test"));
        }
    }
    Vec::new()
}

/// Every resolution that could differ between the two hubs.
fn assert_same(incremental: &CertificateHub, full: &CertificateHub, tree: &DomainTree, step: &str) {
    let mut probes: Vec<Option<String>> = vec![None, Some("nowhere.invalid".into())];
    for domain in tree.iter() {
        probes.push(Some(domain.name().to_owned()));
        probes.push(Some(format!("zz.{}", domain.name())));
        probes.push(Some(domain.name().to_ascii_uppercase()));
    }
    for probe in &probes {
        for role in ["ws", "sg"] {
            let got = incremental.resolve(probe.as_deref(), role);
            let want = full.resolve(probe.as_deref(), role);
            let view = |r: &certfleet_edge::resolver::Resolution| {
                (
                    r.source,
                    r.domain.clone(),
                    r.sha1_thumbprint.clone(),
                    r.name_mismatch,
                    r.reason.clone(),
                )
            };
            assert_eq!(view(&got), view(&want), "{step}: {probe:?} on {role}");
        }
    }
}

fn hub(default: &str, certdir: &Arc<ServedCertificate>) -> CertificateHub {
    let hub = CertificateHub::new(ServedCertificate::from_pem(default).unwrap());
    hub.set_certdir("ws", Some(CertdirState::Loaded(Arc::clone(certdir))));
    hub
}

fn run(seed: u64, steps: usize, pems: &[String]) {
    let default = bundle_pem(&["localhost"]);
    let certdir = Arc::new(ServedCertificate::from_pem(&bundle_pem(&["example.test"])).unwrap());
    let mut dice = Dice(seed);
    let mut source = DomainTree::new();
    let mut follower = DomainTree::new();
    let incremental = hub(&default, &certdir);
    let full = hub(&default, &certdir);
    let mut pending: Vec<StoredChange> = Vec::new();
    for step in 0..steps {
        let before = records(&source);
        let removal = edit(&mut source, &mut dice, pems);
        pending.extend(changes(&before, &source, &removal));
        // Sometimes several edits arrive as one batch, sometimes one change is seen twice.
        if dice.below(3) == 0 {
            continue;
        }
        if let Some(again) = pending.last().cloned().filter(|_| dice.below(4) == 0) {
            pending.push(again);
        }
        let applied = follower.apply_stored(pending.drain(..)).unwrap();
        incremental.apply_changes(&follower, &applied).unwrap();
        // Now and then the follower's index is rebuilt, so that later patches change
        // domains of a built base as well as ones only patched in.
        if dice.below(25) == 0 {
            incremental.set_tree(&follower).unwrap();
        }
        full.set_tree(&source).unwrap();
        assert_eq!(
            incremental.snapshot().index().len(),
            source.len(),
            "seed {seed} step {step}: domains indexed"
        );
        assert_eq!(
            records(&follower),
            records(&source),
            "seed {seed} step {step}"
        );
        assert_same(
            &incremental,
            &full,
            &source,
            &format!("seed {seed} step {step}"),
        );
    }
}

#[test]
fn applying_stored_changes_one_by_one_serves_what_a_full_rebuild_serves() {
    let pems = certificates();
    for seed in [1, 7, 42, 1234, 98765] {
        run(seed, 300, &pems);
    }
}

#[test]
fn a_change_that_breaks_the_tree_is_refused_with_the_rule() {
    let mut tree = DomainTree::new();
    tree.add("example.test", None).unwrap();
    tree.add("a.example.test", None).unwrap();
    let orphan = DomainRecord {
        name: "x.missing.test".into(),
        parent: Some("missing.test".into()),
        ..DomainRecord::default()
    };
    let err = tree
        .apply_stored([StoredChange::Put(orphan)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.test does not exist"), "{err}");
    let second_master = DomainRecord {
        name: "root.test".into(),
        ..DomainRecord::default()
    };
    let err = tree
        .apply_stored([StoredChange::Put(second_master)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("master"), "{err}");
    let err = tree
        .apply_stored([StoredChange::Delete("example.test".into())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("a.example.test is still below it"), "{err}");
    let cycle = DomainRecord {
        name: "example.test".into(),
        parent: Some("a.example.test".into()),
        ..DomainRecord::default()
    };
    assert!(tree.apply_stored([StoredChange::Put(cycle)]).is_err());
    assert_eq!(tree.len(), 2, "nothing refused was applied");
}
