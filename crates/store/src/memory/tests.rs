//! Unit tests of the memory backend and the shared watch hub.

use super::*;
use crate::error::StoreError;

fn key(name: &str) -> Key {
    Key::from_segments(["t", name]).unwrap()
}

#[tokio::test]
async fn a_lagging_watcher_catches_up_from_history_without_gaps() {
    let store = MemoryStore::new();
    let mut stream = store.watch(&Key::root(), None).await.unwrap();
    // Far more than the live buffer and the stream buffer hold together.
    for index in 0..5000u32 {
        store.put(&key("k"), &index.to_be_bytes()).await.unwrap();
    }
    for revision in 1..=5000u64 {
        let event = stream.recv().await.unwrap().unwrap();
        assert_eq!(event.revision(), revision);
    }
}

#[tokio::test]
async fn a_watcher_left_behind_by_compaction_gets_compacted() {
    let store = MemoryStore::with_history(HistoryLimit {
        revisions: 10,
        ..HistoryLimit::default()
    });
    let mut stream = store.watch(&Key::root(), None).await.unwrap();
    for index in 0..5000u32 {
        store.put(&key("k"), &index.to_be_bytes()).await.unwrap();
    }
    let mut last = 0;
    loop {
        match stream.recv().await.unwrap() {
            Ok(event) => {
                assert_eq!(event.revision(), last + 1, "no gap before the error");
                last = event.revision();
            }
            Err(StoreError::Compacted { .. }) => break,
            Err(other) => panic!("{other}"),
        }
    }
    assert!(
        stream.recv().await.is_none(),
        "the stream ends after the error"
    );
    assert!(matches!(
        store.watch(&Key::root(), Some(1)).await,
        Err(StoreError::Compacted { oldest: 4991, .. })
    ));
}

#[tokio::test]
async fn a_dropped_stream_ends_its_forwarding_task() {
    let store = MemoryStore::new();
    let stream = store.watch(&Key::root(), None).await.unwrap();
    drop(stream);
    store.put(&key("k"), b"v").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(store.inner.hub.subscribers(), 0);
}

#[tokio::test]
async fn a_lost_lease_is_reported() {
    let store = MemoryStore::new();
    let name = key("lock");
    let guard = store
        .try_lock(&name, Duration::from_millis(60))
        .await
        .unwrap()
        .unwrap();
    // Someone removes the record behind the guard's back.
    store.inner.state.lock().await.locks.clear();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!guard.is_held());
}
