//! A store that fails part way through a recursive deletion: the domains deleted so far
//! are gone, what is left is a valid tree (no child without its parent), and this node
//! serves exactly what the store holds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::fixture_on;
use super::*;
use certfleet_store::memory::MemoryStore;
use certfleet_store::{CasOutcome, Entry, Expect, Key, LockGuard, StoreError, WatchStream};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The boxed future every [`Storage`] method returns.
type Answer<'a, T> = Pin<Box<dyn Future<Output = certfleet_store::Result<T>> + Send + 'a>>;

/// A memory store whose deletion of one key fails while `armed`.
struct FailingDelete {
    inner: MemoryStore,
    key: Key,
    armed: AtomicBool,
}

// The trait's methods are written out as `async_trait` expands them, since this crate
// does not depend on it.
impl Storage for FailingDelete {
    fn get<'s, 'k, 'f>(&'s self, key: &'k Key) -> Answer<'f, Option<Entry>>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        self.inner.get(key)
    }

    fn put<'s, 'k, 'v, 'f>(&'s self, key: &'k Key, value: &'v [u8]) -> Answer<'f, u64>
    where
        's: 'f,
        'k: 'f,
        'v: 'f,
        Self: 'f,
    {
        self.inner.put(key, value)
    }

    fn delete<'s, 'k, 'f>(&'s self, key: &'k Key) -> Answer<'f, bool>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        if *key == self.key && self.armed.load(Ordering::SeqCst) {
            return Box::pin(async {
                Err(StoreError::Unavailable("the test's store fails".into()))
            });
        }
        self.inner.delete(key)
    }

    fn list<'s, 'k, 'f>(&'s self, prefix: &'k Key) -> Answer<'f, Vec<Entry>>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        self.inner.list(prefix)
    }

    fn compare_and_swap<'s, 'k, 'v, 'f>(
        &'s self,
        key: &'k Key,
        expect: Expect,
        value: &'v [u8],
    ) -> Answer<'f, CasOutcome>
    where
        's: 'f,
        'k: 'f,
        'v: 'f,
        Self: 'f,
    {
        self.inner.compare_and_swap(key, expect, value)
    }

    fn watch<'s, 'k, 'f>(&'s self, prefix: &'k Key, from: Option<u64>) -> Answer<'f, WatchStream>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        self.inner.watch(prefix, from)
    }

    fn revision<'s, 'f>(&'s self) -> Answer<'f, u64>
    where
        's: 'f,
        Self: 'f,
    {
        self.inner.revision()
    }

    fn lock<'s, 'k, 'f>(&'s self, name: &'k Key, ttl: Duration) -> Answer<'f, LockGuard>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        self.inner.lock(name, ttl)
    }

    fn try_lock<'s, 'k, 'f>(&'s self, name: &'k Key, ttl: Duration) -> Answer<'f, Option<LockGuard>>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        self.inner.try_lock(name, ttl)
    }
}

#[tokio::test]
async fn a_store_failing_midway_leaves_a_valid_tree_that_is_served_as_stored() {
    let failing = Arc::new(FailingDelete {
        inner: MemoryStore::new(),
        key: certfleet_store::keys::domain("www.shop.example.test").unwrap(),
        armed: AtomicBool::new(false),
    });
    let f = fixture_on(Arc::clone(&failing) as Arc<dyn Storage>).await;
    failing.armed.store(true, Ordering::SeqCst);

    let err = f
        .service
        .delete_branch("admin-token", "shop.example.test", true, f.acme())
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, DomainError::Storage(_))
            && message.contains("deleting domain www.shop.example.test")
            && message.contains("1 of the 4 domains were deleted")
            && message.contains("this node serves what the store holds"),
        "{message}"
    );
    // The deepest domain went first; the rest of the branch, parents included, is there.
    let stored = f
        .other
        .load()
        .await
        .expect("what is stored is a valid tree");
    let names: Vec<String> = stored.iter().map(|d| d.name().to_owned()).collect();
    assert_eq!(
        names,
        [
            "api.shop.example.test",
            "example.test",
            "other.test",
            "shop.example.test",
            "www.shop.example.test"
        ]
    );
    assert_eq!(f.service.read(|tree| tree.len()).await, 5);
    // Served as stored: the deleted name falls back through the domains still there.
    assert_eq!(
        f.served("v2.www.shop.example.test").as_deref(),
        Some("shop.example.test")
    );
    assert_eq!(f.audit("domain.delete").await.len(), 1);

    // Once the store answers again, the same request finishes the job.
    failing.armed.store(false, Ordering::SeqCst);
    let deleted = f
        .service
        .delete_branch("admin-token", "shop.example.test", true, f.acme())
        .await
        .unwrap();
    assert_eq!(deleted.deleted.len(), 3);
    assert_eq!(f.other.load().await.unwrap().len(), 2);
}
