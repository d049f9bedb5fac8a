//! Conformance cases for reads, writes, compare-and-swap, listing and keys.

use super::key;
use crate::key::Key;
use crate::storage::{CasOutcome, Expect, Storage};
use std::sync::Arc;

/// Get, delete and list of what was never written (or was deleted) answer "nothing".
pub async fn not_found(store: Arc<dyn Storage>) {
    let missing = key("not_found", &["missing"]);
    assert_eq!(store.get(&missing).await.unwrap(), None);
    assert!(!store.delete(&missing).await.unwrap());
    assert!(store.list(&key("not_found", &[])).await.unwrap().is_empty());
    assert!(store.list(&missing).await.unwrap().is_empty());

    let gone = key("not_found", &["gone"]);
    store.put(&gone, b"here").await.unwrap();
    assert!(store.delete(&gone).await.unwrap());
    assert_eq!(store.get(&gone).await.unwrap(), None);
    assert!(!store.delete(&gone).await.unwrap());
    assert!(store.list(&key("not_found", &[])).await.unwrap().is_empty());
}

/// What is put is got back, with the revision the put returned; revisions increase.
pub async fn put_get_round_trip(store: Arc<dyn Storage>) {
    let first = key("put_get_round_trip", &["first"]);
    let second = key("put_get_round_trip", &["second"]);
    let r1 = store.put(&first, b"v1").await.unwrap();
    let entry = store.get(&first).await.unwrap().unwrap();
    assert_eq!(
        (entry.key, entry.value, entry.revision),
        (first.clone(), b"v1".to_vec(), r1)
    );

    let r2 = store.put(&first, b"v2").await.unwrap();
    assert!(r2 > r1, "revisions must increase: {r1} then {r2}");
    let entry = store.get(&first).await.unwrap().unwrap();
    assert_eq!((entry.value, entry.revision), (b"v2".to_vec(), r2));

    let r3 = store.put(&second, b"").await.unwrap();
    assert!(r3 > r2);
    let empty = store.get(&second).await.unwrap().unwrap();
    assert_eq!((empty.value, empty.revision), (Vec::new(), r3));
    assert!(store.revision().await.unwrap() >= r3);
    // The first key is untouched by the second's write.
    assert_eq!(store.get(&first).await.unwrap().unwrap().revision, r2);
}

/// `Expect::Absent` creates once; the second attempt conflicts with the first value.
pub async fn cas_absent(store: Arc<dyn Storage>) {
    let slot = key("cas_absent", &["slot"]);
    let revision = match store
        .compare_and_swap(&slot, Expect::Absent, b"mine")
        .await
        .unwrap()
    {
        CasOutcome::Swapped(revision) => revision,
        other => panic!("creating an absent key: {other:?}"),
    };
    assert_eq!(store.get(&slot).await.unwrap().unwrap().revision, revision);
    match store
        .compare_and_swap(&slot, Expect::Absent, b"theirs")
        .await
        .unwrap()
    {
        CasOutcome::Conflict(Some(entry)) => {
            assert_eq!((entry.value, entry.revision), (b"mine".to_vec(), revision));
        }
        other => panic!("creating an existing key: {other:?}"),
    }
    assert_eq!(store.get(&slot).await.unwrap().unwrap().value, b"mine");
}

/// `Expect::Revision` of the current revision swaps and gives a newer revision.
pub async fn cas_revision(store: Arc<dyn Storage>) {
    let slot = key("cas_revision", &["slot"]);
    let r1 = store.put(&slot, b"one").await.unwrap();
    let r2 = match store
        .compare_and_swap(&slot, Expect::Revision(r1), b"two")
        .await
        .unwrap()
    {
        CasOutcome::Swapped(revision) => revision,
        other => panic!("swap at the current revision: {other:?}"),
    };
    assert!(r2 > r1);
    let entry = store.get(&slot).await.unwrap().unwrap();
    assert_eq!((entry.value, entry.revision), (b"two".to_vec(), r2));
}

/// A stale revision conflicts and shows what is there now; nothing is written.
pub async fn cas_conflict(store: Arc<dyn Storage>) {
    let slot = key("cas_conflict", &["slot"]);
    let r1 = store.put(&slot, b"one").await.unwrap();
    let r2 = store.put(&slot, b"two").await.unwrap();
    match store
        .compare_and_swap(&slot, Expect::Revision(r1), b"stale")
        .await
        .unwrap()
    {
        CasOutcome::Conflict(Some(entry)) => {
            assert_eq!(
                (entry.key, entry.value, entry.revision),
                (slot.clone(), b"two".to_vec(), r2)
            );
        }
        other => panic!("swap at a stale revision: {other:?}"),
    }
    assert_eq!(store.get(&slot).await.unwrap().unwrap().revision, r2);

    let absent = key("cas_conflict", &["absent"]);
    let outcome = store
        .compare_and_swap(&absent, Expect::Revision(r2), b"x")
        .await
        .unwrap();
    assert_eq!(outcome, CasOutcome::Conflict(None));
    assert_eq!(store.get(&absent).await.unwrap(), None);
}

/// Listing gives the prefix and its descendants sorted by key, never siblings that
/// merely start with the same characters (`a` vs `ab`, `a.b`).
pub async fn list_prefix_sorted(store: Arc<dyn Storage>) {
    let base = key("list_prefix_sorted", &[]);
    let names: [&[&str]; 8] = [
        &["b"],
        &["a", "y", "z"],
        &["ab"],
        &["a"],
        &["a.b"],
        &["a", "x"],
        &["a", "c"],
        &["a", "Z"],
    ];
    for (index, segments) in names.iter().enumerate() {
        let value = format!("value {index}");
        store
            .put(&key("list_prefix_sorted", segments), value.as_bytes())
            .await
            .unwrap();
    }
    let under_a = store
        .list(&key("list_prefix_sorted", &["a"]))
        .await
        .unwrap();
    let listed: Vec<String> = under_a
        .iter()
        .map(|entry| relative(&entry.key, &base))
        .collect();
    assert_eq!(listed, ["a", "a/Z", "a/c", "a/x", "a/y/z"]);
    for entry in &under_a {
        assert_eq!(store.get(&entry.key).await.unwrap().as_ref(), Some(entry));
    }

    let all = store.list(&base).await.unwrap();
    let listed: Vec<String> = all
        .iter()
        .map(|entry| relative(&entry.key, &base))
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "listing must be sorted by key");
    assert_eq!(listed.len(), names.len());
    assert!(store
        .list(&key("list_prefix_sorted", &["a", "y", "z", "q"]))
        .await
        .unwrap()
        .is_empty());
}

/// `key` relative to `base`.
fn relative(key: &Key, base: &Key) -> String {
    let stored = key.as_str();
    stored
        .strip_prefix(&base.descendants_prefix())
        .unwrap_or(stored)
        .to_owned()
}

/// N tasks increment one counter by compare-and-swap; no increment is lost and every
/// successful swap has its own revision.
pub async fn concurrent_cas_increments(store: Arc<dyn Storage>) {
    const TASKS: u64 = 8;
    const EACH: u64 = 10;
    let counter = key("concurrent_cas_increments", &["counter"]);
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (store, counter) = (Arc::clone(&store), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut revisions = Vec::new();
            for _ in 0..EACH {
                loop {
                    let current = store.get(&counter).await.unwrap();
                    let (expect, value) = match &current {
                        None => (Expect::Absent, 0),
                        Some(entry) => (
                            Expect::Revision(entry.revision),
                            String::from_utf8_lossy(&entry.value)
                                .parse::<u64>()
                                .unwrap(),
                        ),
                    };
                    let next = (value + 1).to_string();
                    match store
                        .compare_and_swap(&counter, expect, next.as_bytes())
                        .await
                        .unwrap()
                    {
                        CasOutcome::Swapped(revision) => {
                            revisions.push(revision);
                            break;
                        }
                        CasOutcome::Conflict(_) => tokio::task::yield_now().await,
                    }
                }
            }
            revisions
        }));
    }
    let mut revisions = Vec::new();
    for task in tasks {
        revisions.extend(task.await.unwrap());
    }
    let total = store.get(&counter).await.unwrap().unwrap();
    assert_eq!(total.value, (TASKS * EACH).to_string().into_bytes());
    revisions.sort_unstable();
    revisions.dedup();
    assert_eq!(
        revisions.len() as u64,
        TASKS * EACH,
        "each swap has its own revision"
    );
    assert_eq!(revisions.last().copied(), Some(total.revision));
}

/// Keys that could escape their namespace cannot be made; unusual legal ones round-trip.
pub async fn traversal_refused(store: Arc<dyn Storage>) {
    for bad in [
        "..",
        ".",
        "",
        "a/b",
        "a/../../x",
        "..\\x",
        "nul\0",
        "line\n",
    ] {
        assert!(
            Key::from_segments(["conformance", bad]).is_err(),
            "{bad:?} accepted"
        );
        assert!(
            key("traversal_refused", &[]).child(bad).is_err(),
            "{bad:?} accepted"
        );
    }
    for bad in ["a/../../x", "a//b", "/a", "a/", "../a"] {
        assert!(Key::parse(bad).is_err(), "{bad:?} parsed");
    }
    let odd = [
        "..hidden",
        "ca.example.com",
        "with space",
        "ünïcode",
        "*.example.com",
    ];
    for (index, segment) in odd.iter().enumerate() {
        let stored = key("traversal_refused", &[segment]);
        store.put(&stored, &[index as u8]).await.unwrap();
        assert_eq!(
            store.get(&stored).await.unwrap().unwrap().value,
            [index as u8]
        );
    }
    let listed = store.list(&key("traversal_refused", &[])).await.unwrap();
    assert_eq!(listed.len(), odd.len());
}

/// A 1 MiB value is stored, read and listed intact.
pub async fn large_value(store: Arc<dyn Storage>) {
    let big = key("large_value", &["big"]);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let value: Vec<u8> = (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let revision = store.put(&big, &value).await.unwrap();
    let entry = store.get(&big).await.unwrap().unwrap();
    assert_eq!(entry.revision, revision);
    assert!(entry.value == value, "1 MiB value changed on the way");
    let listed = store.list(&key("large_value", &[])).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].value == value);
}
