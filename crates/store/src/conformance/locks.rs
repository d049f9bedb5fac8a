//! Conformance cases for lease-based locks.
//!
//! Leases are 2 s or more: etcd refuses shorter ones (its minimum TTL follows its
//! election timeout), and every backend runs the same cases.

use super::key;
use crate::storage::Storage;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The lease of the cases that wait for one to run out.
const SHORT_TTL: Duration = Duration::from_secs(2);
/// The lease of the cases that must not see one run out.
const LONG_TTL: Duration = Duration::from_secs(30);
/// How late after its lease an abandoned lock may be taken.
const EXPIRY_MARGIN: Duration = Duration::from_secs(4);

/// While one holder has a lock, `try_lock` gives `None` and `lock` waits; after the
/// release it is free.
pub async fn lock_excludes(store: Arc<dyn Storage>) {
    let name = key("lock_excludes", &["job"]);
    let first = store
        .try_lock(&name, LONG_TTL)
        .await
        .unwrap()
        .expect("a free lock");
    assert!(first.is_held());
    assert_eq!(first.name(), &name);
    assert!(store.try_lock(&name, LONG_TTL).await.unwrap().is_none());
    let waiting =
        tokio::time::timeout(Duration::from_millis(300), store.lock(&name, LONG_TTL)).await;
    assert!(
        waiting.is_err(),
        "lock() returned while another holder had it"
    );
    // Another lock is independent.
    let other = key("lock_excludes", &["other"]);
    let other = store
        .try_lock(&other, LONG_TTL)
        .await
        .unwrap()
        .expect("an unrelated lock");

    first.release().await.unwrap();
    let again = store
        .try_lock(&name, LONG_TTL)
        .await
        .unwrap()
        .expect("released lock");
    again.release().await.unwrap();
    other.release().await.unwrap();
}

/// `lock` returns soon after the holder releases, long before the lease would run out.
pub async fn lock_waits_for_release(store: Arc<dyn Storage>) {
    let name = key("lock_waits_for_release", &["job"]);
    let first = store.lock(&name, LONG_TTL).await.unwrap();
    let waiter = {
        let (store, name) = (Arc::clone(&store), name.clone());
        tokio::spawn(async move {
            let guard = store.lock(&name, LONG_TTL).await.unwrap();
            let acquired = Instant::now();
            guard.release().await.unwrap();
            acquired
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiter.is_finished(),
        "the second holder got the lock while it was held"
    );
    let released = Instant::now();
    first.release().await.unwrap();
    let acquired = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("the waiter did not get the released lock")
        .unwrap();
    assert!(acquired >= released);
    assert!(
        acquired - released < Duration::from_secs(5),
        "took {:?}",
        acquired - released
    );
}

/// A holder that stops renewing without releasing (as a killed process does) keeps the
/// lock until its lease runs out, and no longer.
pub async fn lock_expires_after_holder_dies(store: Arc<dyn Storage>) {
    let name = key("lock_expires_after_holder_dies", &["job"]);
    let before = Instant::now();
    let dead = store
        .try_lock(&name, SHORT_TTL)
        .await
        .unwrap()
        .expect("a free lock");
    dead.abandon();
    assert!(
        store.try_lock(&name, SHORT_TTL).await.unwrap().is_none(),
        "free before its lease ended"
    );

    let limit = SHORT_TTL + EXPIRY_MARGIN + Duration::from_secs(5);
    let next = tokio::time::timeout(limit, store.lock(&name, SHORT_TTL))
        .await
        .expect("an abandoned lock never became free")
        .unwrap();
    let waited = before.elapsed();
    // Wall-clock leases are kept in whole milliseconds: allow a little rounding.
    assert!(
        waited + Duration::from_millis(50) >= SHORT_TTL,
        "free after {waited:?}"
    );
    assert!(
        waited <= SHORT_TTL + EXPIRY_MARGIN,
        "free only after {waited:?}"
    );
    assert!(next.is_held());
    next.release().await.unwrap();
}

/// A live holder's guard renews its lease: the lock stays taken well past one ttl.
pub async fn lock_renewed_while_held(store: Arc<dyn Storage>) {
    let name = key("lock_renewed_while_held", &["job"]);
    let guard = store
        .try_lock(&name, SHORT_TTL)
        .await
        .unwrap()
        .expect("a free lock");
    tokio::time::sleep(SHORT_TTL + SHORT_TTL / 2).await;
    assert!(guard.is_held(), "the guard let its lease lapse");
    assert!(
        store.try_lock(&name, SHORT_TTL).await.unwrap().is_none(),
        "renewed lock taken"
    );
    guard.release().await.unwrap();
    let after = store
        .try_lock(&name, SHORT_TTL)
        .await
        .unwrap()
        .expect("released lock");
    after.release().await.unwrap();
}
