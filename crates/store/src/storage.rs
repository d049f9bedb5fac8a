//! The storage contract every backend (memory, embedded, etcd) keeps.
//!
//! # The contract
//!
//! - **Keys** are [`Key`]s, made only through [`Key::from_segments`] / [`Key::child`], so
//!   traversal such as `a/../../x` can never be stored.
//! - **Not found** is not an error: [`Storage::get`] answers `Ok(None)`,
//!   [`Storage::delete`] answers `Ok(false)`, and listing an empty prefix gives an empty
//!   vector. Errors mean the backend failed ([`StoreError::Unavailable`](crate::StoreError::Unavailable),
//!   [`StoreError::Timeout`](crate::StoreError::Timeout)) and the caller may retry.
//! - **Revisions**: every change (put or delete) gets the next revision of a single,
//!   store-wide, strictly increasing counter. An [`Entry`] carries the revision of its
//!   last change. Revision 0 means "never written".
//! - **Atomicity and durability**: each call is atomic. When a write returns `Ok`, the
//!   change is durable (fsynced for the embedded store, committed by a quorum for etcd)
//!   and visible to every later read on every node.
//! - **Concurrency**: writers race freely; [`Storage::compare_and_swap`] is how a writer
//!   makes its change depend on what it read. A conflict is an ordinary answer
//!   ([`CasOutcome::Conflict`] with the current entry), not an error.
//! - **Listing** returns a prefix's entries sorted by key (byte order).
//! - **Watching** delivers every change under a prefix, in revision order, exactly once,
//!   starting after `from` (or from now when `None`), so a watcher that remembers the
//!   last revision it saw can resume without gaps. A revision older than what the
//!   backend keeps yields [`StoreError::Compacted`](crate::StoreError::Compacted): re-read, then watch from the
//!   revision of the read.
//! - **Locks** are for work that must run once at a time across the cluster (renewing
//!   a domain's certificate, applying a model), not for protecting single keys (use
//!   compare-and-swap). A lock is a lease: it lasts `ttl` and the holder's guard renews
//!   it in the background while alive. A holder that dies (killed process, lost node)
//!   stops renewing, and the lock is free once its lease runs out. Holders must
//!   re-check storage after acquiring (someone else may have done the work), and
//!   release explicitly with [`LockGuard::release`]; dropping the guard also releases,
//!   in the background.

use crate::error::Result;
use crate::key::Key;
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::mpsc;

/// One stored value with the revision of its last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: Key,
    /// The value.
    pub value: Vec<u8>,
    /// The revision of the change that wrote this value.
    pub revision: u64,
}

/// What a compare-and-swap expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The key must not exist.
    Absent,
    /// The key must exist with exactly this revision.
    Revision(u64),
}

/// The result of a compare-and-swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasOutcome {
    /// The value was written at this revision.
    Swapped(u64),
    /// The expectation did not hold; this is what is there now (`None`: absent).
    Conflict(Option<Entry>),
}

/// One change seen by a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// A key was written.
    Put(Entry),
    /// A key was deleted, at this revision.
    Delete {
        /// The key deleted.
        key: Key,
        /// The revision of the deletion.
        revision: u64,
    },
}

impl WatchEvent {
    /// The revision of the change.
    pub fn revision(&self) -> u64 {
        match self {
            WatchEvent::Put(entry) => entry.revision,
            WatchEvent::Delete { revision, .. } => *revision,
        }
    }

    /// The key changed.
    pub fn key(&self) -> &Key {
        match self {
            WatchEvent::Put(entry) => &entry.key,
            WatchEvent::Delete { key, .. } => key,
        }
    }
}

/// A stream of changes; it ends (or yields an error) when the backend stops watching.
pub type WatchStream = mpsc::Receiver<Result<WatchEvent>>;

/// The storage contract; see the module documentation for its rules.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The entry at `key`, or `None`.
    async fn get(&self, key: &Key) -> Result<Option<Entry>>;

    /// Writes `value` at `key`; returns the new revision.
    async fn put(&self, key: &Key, value: &[u8]) -> Result<u64>;

    /// Deletes `key`; `false` when it did not exist.
    async fn delete(&self, key: &Key) -> Result<bool>;

    /// Every entry at or under `prefix`, sorted by key.
    async fn list(&self, prefix: &Key) -> Result<Vec<Entry>>;

    /// Writes `value` at `key` only if `expect` holds.
    async fn compare_and_swap(&self, key: &Key, expect: Expect, value: &[u8])
        -> Result<CasOutcome>;

    /// Every change at or under `prefix` after revision `from` (from now when `None`).
    async fn watch(&self, prefix: &Key, from: Option<u64>) -> Result<WatchStream>;

    /// The store's latest revision.
    async fn revision(&self) -> Result<u64>;

    /// Takes the lock `name`, waiting until it is free, with a lease of `ttl`.
    async fn lock(&self, name: &Key, ttl: Duration) -> Result<LockGuard>;

    /// Takes the lock `name` if it is free now.
    async fn try_lock(&self, name: &Key, ttl: Duration) -> Result<Option<LockGuard>>;
}

/// How a backend releases one lock; boxed inside a [`LockGuard`].
///
/// Dropping it without calling [`LockRelease::release`] must stop the lease's renewal
/// and leave the lock taken until the lease runs out, as if the holder had died (this
/// is what [`LockGuard::abandon`] does).
#[async_trait]
pub trait LockRelease: Send + Sync {
    /// Gives the lock back. Called at most once.
    async fn release(self: Box<Self>) -> Result<()>;

    /// True while the lease is known to be held.
    fn is_held(&self) -> bool;
}

/// A held lock. Release it with [`LockGuard::release`]; dropping it releases it in the
/// background (needs a running tokio runtime).
pub struct LockGuard {
    name: Key,
    inner: Option<Box<dyn LockRelease>>,
}

impl LockGuard {
    /// Wraps a backend's lock.
    pub fn new(name: Key, inner: Box<dyn LockRelease>) -> Self {
        LockGuard {
            name,
            inner: Some(inner),
        }
    }

    /// The lock's name.
    pub fn name(&self) -> &Key {
        &self.name
    }

    /// True while the lease is known to be held (renewals succeeding).
    pub fn is_held(&self) -> bool {
        self.inner.as_ref().is_some_and(|inner| inner.is_held())
    }

    /// Releases the lock now.
    pub async fn release(mut self) -> Result<()> {
        match self.inner.take() {
            Some(inner) => inner.release().await,
            None => Ok(()),
        }
    }

    /// Stops renewing without releasing, as a holder that dies does: the lock stays
    /// taken until its lease runs out. For tests of lease expiry; `std::mem::forget`
    /// would not do, since renewal runs in the background.
    #[doc(hidden)]
    pub fn abandon(mut self) {
        drop(self.inner.take());
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    // Best effort: if this fails the lease still expires on its own.
                    let _ = inner.release().await;
                });
            }
        }
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("name", &self.name)
            .field("held", &self.is_held())
            .finish()
    }
}
