//! The embedded backend: [`EmbeddedStore`], the default [`Storage`], one redb file in
//! the data directory.
//!
//! - **Durability**: each write is one redb transaction committed with redb's default
//!   durability, which fsyncs before the call returns; a crash loses nothing that was
//!   acknowledged, and the next open repairs the file.
//! - **Revisions and watch**: a store-wide counter kept in the file; every change is
//!   also logged, the log is compacted to a [`HistoryLimit`] (by default the last
//!   10,000 revisions and at most 64 MiB) in the same transaction, and watchers in this
//!   process are fed after each commit (see [`crate::memory`]'s hub).
//! - **Locks**: a record (holder id, lease expiry in wall-clock unix milliseconds) that
//!   the guard renews every `ttl / 3`. An expired record may be taken over, so a lock
//!   whose process was killed is free once its lease runs out, also for the next
//!   process that opens the file. Leases follow the wall clock: a clock stepped
//!   forward frees locks early.
//! - **One process**: redb holds an exclusive lock on the file while it is open;
//!   several nodes share etcd instead.
//! - **Privacy**: the file is mode 0600 and a directory created for it 0700.
//!
//! redb is synchronous: every call runs on tokio's blocking pool.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use certfleet_store::{embedded::EmbeddedStore, Key, Storage};
//! let dir = tempfile::tempdir().unwrap();
//! let store = EmbeddedStore::open(dir.path().join("store.redb")).await.unwrap();
//! let key = Key::from_segments(["domains", "example.com"]).unwrap();
//! store.put(&key, b"v1").await.unwrap();
//! assert_eq!(store.get(&key).await.unwrap().unwrap().value, b"v1");
//! # });
//! ```

mod file;
mod tables;
#[cfg(test)]
mod tests;

use crate::error::{Result, StoreError};
use crate::key::Key;
use crate::memory::hub::{History, Hub};
use crate::memory::lease::{self, Leases};
use crate::memory::HistoryLimit;
use crate::storage::{CasOutcome, Entry, Expect, LockGuard, Storage, WatchEvent, WatchStream};
use async_trait::async_trait;
use redb::Database;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The longest a waiting `lock` sleeps before looking again (wall-clock leases).
const LOCK_RECHECK: Duration = Duration::from_secs(1);

/// A [`Storage`] in one redb file. Cloning gives another handle to the same store.
#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    path: PathBuf,
    limit: HistoryLimit,
    hub: Hub,
    /// Held across commit and publish, so watchers see changes in revision order.
    writer: Arc<Mutex<()>>,
    /// Woken whenever a lock is released.
    released: Notify,
}

impl EmbeddedStore {
    /// Opens the store file at `path`, creating it (and its directory) when missing.
    pub async fn open(path: impl AsRef<Path>) -> Result<EmbeddedStore> {
        EmbeddedStore::open_with(path, HistoryLimit::default()).await
    }

    /// Like [`EmbeddedStore::open`], keeping `limit` of change history for watchers.
    pub async fn open_with(path: impl AsRef<Path>, limit: HistoryLimit) -> Result<EmbeddedStore> {
        let path = path.as_ref().to_path_buf();
        let opened = path.clone();
        let db = tokio::task::spawn_blocking(move || file::open_database(&opened))
            .await
            .map_err(join_error)??;
        Ok(EmbeddedStore {
            inner: Arc::new(Inner {
                db: Arc::new(db),
                path,
                limit,
                hub: Hub::default(),
                writer: Arc::new(Mutex::new(())),
                released: Notify::new(),
            }),
        })
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

fn join_error(error: tokio::task::JoinError) -> StoreError {
    StoreError::Unavailable(format!("store task failed: {error}"))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// A lease in milliseconds (already clamped to at most a year, so it fits).
fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Inner {
    /// Runs `run` on the blocking pool.
    async fn blocking<T, F>(&self, run: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || run(&db))
            .await
            .map_err(join_error)?
    }

    /// Runs a change on the blocking pool and publishes its event after the commit.
    async fn write<T, F>(&self, write: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Database, HistoryLimit) -> Result<(T, Option<Arc<WatchEvent>>)> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        let writer = Arc::clone(&self.writer);
        let limit = self.limit;
        let (answer, event) = tokio::task::spawn_blocking(move || {
            // The mutex guards no data, so a poisoned one is as good as any.
            let _serial = writer.lock().unwrap_or_else(PoisonError::into_inner);
            write(&db, limit)
        })
        .await
        .map_err(join_error)??;
        if let Some(event) = event {
            self.hub.publish(event);
        }
        Ok(answer)
    }

    /// Takes `name` if it is free now: the holder and when the attempt started, or the
    /// current lease's expiry (unix ms).
    async fn try_take(
        &self,
        name: &Key,
        ttl: Duration,
    ) -> Result<std::result::Result<(u128, Instant), u64>> {
        let holder = lease::new_holder();
        let started = Instant::now();
        let name = name.clone();
        let taken = self
            .blocking(move |db| {
                let now = now_ms();
                tables::take_lock(db, &name, holder, now, now.saturating_add(ttl_ms(ttl)))
            })
            .await?;
        Ok(taken.map(|()| (holder, started)))
    }
}

#[async_trait]
impl History for Inner {
    async fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<WatchEvent>>> {
        self.blocking(move |db| tables::changes_after(db, after, limit))
            .await
    }

    async fn current(&self) -> Result<u64> {
        self.blocking(tables::revision).await
    }
}

#[async_trait]
impl Leases for Inner {
    async fn renew(&self, name: &Key, holder: u128, ttl: Duration) -> Result<bool> {
        let name = name.clone();
        self.blocking(move |db| {
            let now = now_ms();
            tables::renew_lock(
                db,
                &name,
                holder,
                now,
                now.saturating_add(ttl_ms(ttl)),
                false,
            )
        })
        .await
    }

    async fn release(&self, name: &Key, holder: u128) -> Result<()> {
        let name = name.clone();
        let released = self
            .blocking(move |db| tables::renew_lock(db, &name, holder, now_ms(), 0, true))
            .await;
        self.released.notify_waiters();
        released.map(|_| ())
    }
}

#[async_trait]
impl Storage for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        let key = key.clone();
        self.inner.blocking(move |db| tables::get(db, &key)).await
    }

    async fn put(&self, key: &Key, value: &[u8]) -> Result<u64> {
        let (key, value) = (key.clone(), value.to_vec());
        self.inner
            .write(move |db, limit| {
                let event = tables::put(db, limit, &key, &value)?;
                Ok((event.revision(), Some(event)))
            })
            .await
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        let key = key.clone();
        self.inner
            .write(move |db, limit| {
                let event = tables::delete(db, limit, &key)?;
                Ok((event.is_some(), event))
            })
            .await
    }

    async fn list(&self, prefix: &Key) -> Result<Vec<Entry>> {
        let prefix = prefix.clone();
        self.inner
            .blocking(move |db| tables::list(db, &prefix))
            .await
    }

    async fn compare_and_swap(
        &self,
        key: &Key,
        expect: Expect,
        value: &[u8],
    ) -> Result<CasOutcome> {
        let (key, value) = (key.clone(), value.to_vec());
        self.inner
            .write(move |db, limit| {
                Ok(
                    match tables::compare_and_swap(db, limit, &key, expect, &value)? {
                        Ok(event) => (CasOutcome::Swapped(event.revision()), Some(event)),
                        Err(current) => (CasOutcome::Conflict(current), None),
                    },
                )
            })
            .await
    }

    async fn watch(&self, prefix: &Key, from: Option<u64>) -> Result<WatchStream> {
        let history: Arc<dyn History> = self.inner.clone();
        self.inner.hub.watch(history, prefix.clone(), from).await
    }

    async fn revision(&self) -> Result<u64> {
        self.inner.blocking(tables::revision).await
    }

    async fn lock(&self, name: &Key, ttl: Duration) -> Result<LockGuard> {
        let ttl = lease::clamp_ttl(ttl);
        loop {
            let released = self.inner.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            match self.inner.try_take(name, ttl).await? {
                Ok((holder, started)) => return Ok(self.guard(name, holder, ttl, started)),
                Err(until) => {
                    let wait = Duration::from_millis(until.saturating_sub(now_ms()).max(1));
                    tokio::select! {
                        _ = released => {}
                        _ = tokio::time::sleep(wait.min(LOCK_RECHECK)) => {}
                    }
                }
            }
        }
    }

    async fn try_lock(&self, name: &Key, ttl: Duration) -> Result<Option<LockGuard>> {
        let ttl = lease::clamp_ttl(ttl);
        Ok(self
            .inner
            .try_take(name, ttl)
            .await?
            .ok()
            .map(|(holder, started)| self.guard(name, holder, ttl, started)))
    }
}

impl EmbeddedStore {
    fn guard(&self, name: &Key, holder: u128, ttl: Duration, started: Instant) -> LockGuard {
        lease::guard(self.inner.clone(), name.clone(), holder, ttl, started)
    }
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}
