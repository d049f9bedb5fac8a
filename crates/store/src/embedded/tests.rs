//! Unit tests of the embedded backend: history compaction, reopening, file modes.

use super::*;
use crate::memory::HistoryLimit;

async fn open_in(dir: &tempfile::TempDir, limit: HistoryLimit) -> EmbeddedStore {
    EmbeddedStore::open_with(dir.path().join("store.redb"), limit)
        .await
        .unwrap()
}

fn key(name: &str) -> Key {
    Key::from_segments(["t", name]).unwrap()
}

#[tokio::test]
async fn history_is_compacted_to_its_revision_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limit = HistoryLimit {
        revisions: 5,
        ..HistoryLimit::default()
    };
    let store = open_in(&dir, limit).await;
    for index in 0..10u8 {
        store.put(&key("k"), &[index]).await.unwrap();
    }
    assert_eq!(tables::logged(&store.inner.db).unwrap(), 5);
    match store.watch(&Key::root(), Some(4)).await {
        Err(StoreError::Compacted { requested, oldest }) => assert_eq!((requested, oldest), (4, 6)),
        other => panic!("expected Compacted, got {other:?}"),
    }
    let mut stream = store.watch(&Key::root(), Some(5)).await.unwrap();
    for revision in 6..=10 {
        let event = stream.recv().await.unwrap().unwrap();
        assert_eq!(event.revision(), revision);
    }
}

#[tokio::test]
async fn history_is_compacted_to_its_byte_limit_but_keeps_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let limit = HistoryLimit {
        revisions: 1000,
        bytes: 1500,
    };
    let store = open_in(&dir, limit).await;
    for _ in 0..3 {
        store.put(&key("big"), &[7; 1000]).await.unwrap();
    }
    assert_eq!(tables::logged(&store.inner.db).unwrap(), 1);
    assert!(store.watch(&Key::root(), Some(2)).await.is_ok());
    assert!(store.watch(&Key::root(), Some(1)).await.is_err());
}

#[tokio::test]
async fn data_revisions_and_history_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_in(&dir, HistoryLimit::default()).await;
    let r1 = store.put(&key("a"), b"1").await.unwrap();
    let r2 = store.put(&key("b"), b"2").await.unwrap();
    assert!(store.delete(&key("a")).await.unwrap());
    drop(store);

    let store = open_in(&dir, HistoryLimit::default()).await;
    assert_eq!(store.revision().await.unwrap(), r2 + 1);
    assert_eq!(store.get(&key("a")).await.unwrap(), None);
    assert_eq!(store.get(&key("b")).await.unwrap().unwrap().revision, r2);
    let mut stream = store.watch(&Key::root(), Some(r1)).await.unwrap();
    assert_eq!(stream.recv().await.unwrap().unwrap().revision(), r2);
    let r4 = store.put(&key("c"), b"3").await.unwrap();
    assert_eq!(r4, r2 + 2);
    assert_eq!(stream.recv().await.unwrap().unwrap().revision(), r2 + 1);
    assert_eq!(stream.recv().await.unwrap().unwrap().revision(), r4);
}

#[cfg(unix)]
#[tokio::test]
async fn file_is_private_and_its_new_directory_too() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new").join("store.redb");
    let store = EmbeddedStore::open(&path).await.unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    drop(store);

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = EmbeddedStore::open(&path).await.unwrap();
    assert_eq!(mode(&path), 0o600, "an existing file is narrowed");
}

#[tokio::test]
async fn a_creation_killed_half_way_leaves_no_store_behind_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    // What a process killed while creating the store leaves: its staging file, half
    // written, and nothing at the store's name (process 4194304 is past pid_max).
    let abandoned = dir.path().join("store.redb.creating.4194304");
    std::fs::write(&abandoned, b"redb header cut short").unwrap();
    let store = EmbeddedStore::open(&path).await.unwrap();
    store.put(&key("a"), b"1").await.unwrap();
    assert!(
        !abandoned.exists(),
        "the abandoned staging file is still there"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["store.redb"], "only the store is left");
    drop(store);
    let reopened = EmbeddedStore::open(&path).await.unwrap();
    assert_eq!(reopened.get(&key("a")).await.unwrap().unwrap().value, b"1");
}

#[tokio::test]
async fn a_second_open_of_the_same_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _store = open_in(&dir, HistoryLimit::default()).await;
    let second = EmbeddedStore::open(dir.path().join("store.redb")).await;
    assert!(
        matches!(second, Err(StoreError::Unavailable(_))),
        "{second:?}"
    );
}

#[tokio::test]
async fn an_abandoned_lock_outlives_reopening_until_its_lease_ends() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_in(&dir, HistoryLimit::default()).await;
    let name = key("lock");
    let taken = std::time::Instant::now();
    store
        .try_lock(&name, Duration::from_millis(800))
        .await
        .unwrap()
        .unwrap()
        .abandon();
    drop(store);

    let store = open_in(&dir, HistoryLimit::default()).await;
    assert!(store
        .try_lock(&name, Duration::from_secs(5))
        .await
        .unwrap()
        .is_none());
    let guard = store.lock(&name, Duration::from_secs(5)).await.unwrap();
    assert!(taken.elapsed() >= Duration::from_millis(790));
    guard.release().await.unwrap();
}
