//! Conformance cases for watching: every change, in order, once, resumable.

use super::key;
use crate::storage::{Storage, WatchEvent, WatchStream};
use std::sync::Arc;
use std::time::Duration;

/// How long a case waits for an event that must come.
const EVENT_WAIT: Duration = Duration::from_secs(10);
/// How long a case waits to be sure that no further event comes.
const QUIET_WAIT: Duration = Duration::from_millis(300);

async fn next(stream: &mut WatchStream) -> WatchEvent {
    match tokio::time::timeout(EVENT_WAIT, stream.recv()).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(error))) => panic!("watch failed: {error}"),
        Ok(None) => panic!("watch ended"),
        Err(_) => panic!("no watch event within {EVENT_WAIT:?}"),
    }
}

async fn assert_quiet(stream: &mut WatchStream) {
    if let Ok(Some(extra)) = tokio::time::timeout(QUIET_WAIT, stream.recv()).await {
        panic!("unexpected watch event {extra:?}");
    }
}

fn describe(event: &WatchEvent) -> (String, Option<Vec<u8>>, u64) {
    match event {
        WatchEvent::Put(entry) => (
            entry.key.name().to_owned(),
            Some(entry.value.clone()),
            entry.revision,
        ),
        WatchEvent::Delete { key, revision } => (key.name().to_owned(), None, *revision),
    }
}

/// Puts and deletes under the prefix arrive in order with their revisions; changes
/// to a sibling prefix (`w` vs `wx`) do not.
pub async fn watch_in_order(store: Arc<dyn Storage>) {
    let prefix = key("watch_in_order", &["w"]);
    let sibling = key("watch_in_order", &["wx", "a"]);
    let a = prefix.child("a").unwrap();
    let b = prefix.child("b").unwrap();
    let mut stream = store.watch(&prefix, None).await.unwrap();
    let r1 = store.put(&a, b"a1").await.unwrap();
    let r2 = store.put(&b, b"b1").await.unwrap();
    store.put(&sibling, b"elsewhere").await.unwrap();
    let r3 = store.put(&a, b"a2").await.unwrap();
    assert!(store.delete(&a).await.unwrap());
    let r5 = store.put(&prefix, b"the prefix itself").await.unwrap();

    let expected = [
        ("a", Some(b"a1".to_vec()), r1),
        ("b", Some(b"b1".to_vec()), r2),
        ("a", Some(b"a2".to_vec()), r3),
    ];
    for (name, value, revision) in expected {
        let event = next(&mut stream).await;
        assert_eq!(describe(&event), (name.to_owned(), value, revision));
    }
    let (name, value, r4) = describe(&next(&mut stream).await);
    assert_eq!((name.as_str(), value), ("a", None), "the delete");
    assert!(r3 < r4 && r4 < r5, "delete at {r4}, between {r3} and {r5}");
    let event = next(&mut stream).await;
    assert_eq!(
        describe(&event),
        ("w".to_owned(), Some(b"the prefix itself".to_vec()), r5)
    );
    assert_quiet(&mut stream).await;
}

/// A watch from revision R delivers every change after R exactly once, old ones from
/// history first, then new ones as they happen.
pub async fn watch_resume(store: Arc<dyn Storage>) {
    let prefix = key("watch_resume", &[]);
    let k = |name: &str| prefix.child(name).unwrap();
    let r1 = store.put(&k("one"), b"1").await.unwrap();
    let r2 = store.put(&k("two"), b"2").await.unwrap();
    let r3 = store.put(&k("three"), b"3").await.unwrap();
    assert!(store.delete(&k("one")).await.unwrap());

    let mut from_r1 = store.watch(&prefix, Some(r1)).await.unwrap();
    let mut from_r3 = store.watch(&prefix, Some(r3)).await.unwrap();
    let r5 = store.put(&k("four"), b"4").await.unwrap();

    let first = next(&mut from_r3).await;
    let (name, value, r4) = describe(&first);
    assert_eq!((name.as_str(), value), ("one", None), "the delete");
    assert!(r3 < r4 && r4 < r5, "delete at {r4}, between {r3} and {r5}");
    let second = next(&mut from_r3).await;
    assert_eq!(
        describe(&second),
        ("four".to_owned(), Some(b"4".to_vec()), r5)
    );
    assert_quiet(&mut from_r3).await;

    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(next(&mut from_r1).await.revision());
    }
    assert_eq!(seen, [r2, r3, r4, r5], "resume from {r1}");
    assert_quiet(&mut from_r1).await;

    // Resuming from the last revision seen gives only what came after it.
    let mut from_r5 = store.watch(&prefix, Some(r5)).await.unwrap();
    let r6 = store.put(&k("five"), b"5").await.unwrap();
    assert_eq!(next(&mut from_r5).await.revision(), r6);
}

/// A watch from now does not replay what happened before it.
pub async fn watch_from_now(store: Arc<dyn Storage>) {
    let prefix = key("watch_from_now", &[]);
    store
        .put(&prefix.child("before").unwrap(), b"old")
        .await
        .unwrap();
    let mut stream = store.watch(&prefix, None).await.unwrap();
    let revision = store
        .put(&prefix.child("after").unwrap(), b"new")
        .await
        .unwrap();
    let event = next(&mut stream).await;
    assert_eq!(
        describe(&event),
        ("after".to_owned(), Some(b"new".to_vec()), revision)
    );
    assert_quiet(&mut stream).await;
}
