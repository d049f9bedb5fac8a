//! The memory backend: [`MemoryStore`], a [`Storage`] held in this process, for tests.
//!
//! One mutex guards a sorted map, the change log kept for watchers that resume
//! ([`HistoryLimit`]) and the lock records (holder, expiry on tokio's clock). Nothing
//! survives the process. Its watch fan-out (`hub`) and lease guards (`lease`) are
//! shared with the embedded backend.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use certfleet_store::{memory::MemoryStore, Key, Storage};
//! let store = MemoryStore::new();
//! let key = Key::from_segments(["domains", "example.com"]).unwrap();
//! let revision = store.put(&key, b"v1").await.unwrap();
//! assert_eq!(store.get(&key).await.unwrap().unwrap().revision, revision);
//! # });
//! ```

pub(crate) mod hub;
pub(crate) mod lease;
#[cfg(test)]
mod tests;

pub use hub::HistoryLimit;

use crate::error::Result;
use crate::key::Key;
use crate::storage::{CasOutcome, Entry, Expect, LockGuard, Storage, WatchEvent, WatchStream};
use async_trait::async_trait;
use hub::{History, Hub};
use lease::Leases;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};
use tokio::time::Instant;

/// A [`Storage`] in memory. Cloning gives another handle to the same store.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    hub: Hub,
    /// Woken whenever a lock is released.
    released: Notify,
}

#[derive(Default)]
struct State {
    kv: BTreeMap<String, (u64, Vec<u8>)>,
    revision: u64,
    limit: HistoryLimit,
    /// Changes `compacted_through + 1 ..= revision`, oldest first.
    log: VecDeque<Arc<WatchEvent>>,
    log_bytes: u64,
    compacted_through: u64,
    locks: HashMap<String, (u128, Instant)>,
}

impl MemoryStore {
    /// An empty store keeping the default history.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store keeping `limit` of history for watchers.
    pub fn with_history(limit: HistoryLimit) -> MemoryStore {
        let state = State {
            limit,
            ..State::default()
        };
        MemoryStore {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                hub: Hub::default(),
                released: Notify::new(),
            }),
        }
    }
}

impl State {
    /// Records one change at the next revision and returns it for publishing.
    fn commit(&mut self, key: &Key, value: Option<&[u8]>) -> Arc<WatchEvent> {
        self.revision += 1;
        let revision = self.revision;
        let event = match value {
            Some(value) => {
                self.kv
                    .insert(key.as_str().to_owned(), (revision, value.to_vec()));
                WatchEvent::Put(Entry {
                    key: key.clone(),
                    value: value.to_vec(),
                    revision,
                })
            }
            None => {
                self.kv.remove(key.as_str());
                WatchEvent::Delete {
                    key: key.clone(),
                    revision,
                }
            }
        };
        let event = Arc::new(event);
        self.log_bytes += event_cost(&event);
        self.log.push_back(Arc::clone(&event));
        while self.limit.exceeded(self.log.len() as u64, self.log_bytes) {
            match self.log.pop_front() {
                Some(old) => {
                    self.log_bytes -= event_cost(&old);
                    self.compacted_through = old.revision();
                }
                None => break,
            }
        }
        event
    }

    fn entry(&self, key: &Key) -> Option<Entry> {
        self.kv.get(key.as_str()).map(|(revision, value)| Entry {
            key: key.clone(),
            value: value.clone(),
            revision: *revision,
        })
    }
}

fn event_cost(event: &WatchEvent) -> u64 {
    match event {
        WatchEvent::Put(entry) => HistoryLimit::cost(entry.key.as_str(), &entry.value),
        WatchEvent::Delete { key, .. } => HistoryLimit::cost(key.as_str(), &[]),
    }
}

impl Inner {
    async fn write(&self, key: &Key, value: Option<&[u8]>) -> u64 {
        let mut state = self.state.lock().await;
        let event = state.commit(key, value);
        // Published under the lock, so watchers see revisions in order.
        self.hub.publish(Arc::clone(&event));
        event.revision()
    }

    /// Takes `name` for a new holder if it is free; otherwise when its lease ends.
    async fn try_take(
        &self,
        name: &Key,
        ttl: Duration,
    ) -> std::result::Result<(u128, Instant), Instant> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        match state.locks.get(name.as_str()) {
            Some((_, expiry)) if *expiry > now => Err(*expiry),
            _ => {
                let holder = lease::new_holder();
                state
                    .locks
                    .insert(name.as_str().to_owned(), (holder, now + ttl));
                Ok((holder, now))
            }
        }
    }
}

#[async_trait]
impl History for Inner {
    async fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<WatchEvent>>> {
        let state = self.state.lock().await;
        if after < state.compacted_through {
            return Err(hub::compacted(after, state.compacted_through));
        }
        let skip = usize::try_from(after - state.compacted_through).unwrap_or(usize::MAX);
        Ok(state.log.iter().skip(skip).take(limit).cloned().collect())
    }

    async fn current(&self) -> Result<u64> {
        Ok(self.state.lock().await.revision)
    }
}

#[async_trait]
impl Leases for Inner {
    async fn renew(&self, name: &Key, holder: u128, ttl: Duration) -> Result<bool> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        match state.locks.get_mut(name.as_str()) {
            Some((owner, expiry)) if *owner == holder && *expiry > now => {
                *expiry = now + ttl;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release(&self, name: &Key, holder: u128) -> Result<()> {
        let mut state = self.state.lock().await;
        if state
            .locks
            .get(name.as_str())
            .is_some_and(|(owner, _)| *owner == holder)
        {
            state.locks.remove(name.as_str());
        }
        drop(state);
        self.released.notify_waiters();
        Ok(())
    }
}

#[async_trait]
impl Storage for MemoryStore {
    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        Ok(self.inner.state.lock().await.entry(key))
    }

    async fn put(&self, key: &Key, value: &[u8]) -> Result<u64> {
        Ok(self.inner.write(key, Some(value)).await)
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        let mut state = self.inner.state.lock().await;
        if !state.kv.contains_key(key.as_str()) {
            return Ok(false);
        }
        let event = state.commit(key, None);
        self.inner.hub.publish(event);
        Ok(true)
    }

    async fn list(&self, prefix: &Key) -> Result<Vec<Entry>> {
        let state = self.inner.state.lock().await;
        let mut entries = Vec::new();
        if let Some(entry) = state.entry(prefix).filter(|_| !prefix.as_str().is_empty()) {
            entries.push(entry);
        }
        let start = prefix.descendants_prefix();
        for (stored, (revision, value)) in state.kv.range(start.clone()..) {
            if !stored.starts_with(&start) {
                break;
            }
            entries.push(Entry {
                key: Key::parse(stored)?,
                value: value.clone(),
                revision: *revision,
            });
        }
        Ok(entries)
    }

    async fn compare_and_swap(
        &self,
        key: &Key,
        expect: Expect,
        value: &[u8],
    ) -> Result<CasOutcome> {
        let mut state = self.inner.state.lock().await;
        let current = state.entry(key);
        let holds = match (expect, &current) {
            (Expect::Absent, None) => true,
            (Expect::Revision(revision), Some(entry)) => entry.revision == revision,
            _ => false,
        };
        if !holds {
            return Ok(CasOutcome::Conflict(current));
        }
        let event = state.commit(key, Some(value));
        self.inner.hub.publish(Arc::clone(&event));
        Ok(CasOutcome::Swapped(event.revision()))
    }

    async fn watch(&self, prefix: &Key, from: Option<u64>) -> Result<WatchStream> {
        let history: Arc<dyn History> = self.inner.clone();
        self.inner.hub.watch(history, prefix.clone(), from).await
    }

    async fn revision(&self) -> Result<u64> {
        Ok(self.inner.state.lock().await.revision)
    }

    async fn lock(&self, name: &Key, ttl: Duration) -> Result<LockGuard> {
        let ttl = lease::clamp_ttl(ttl);
        loop {
            let released = self.inner.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            match self.inner.try_take(name, ttl).await {
                Ok((holder, taken_at)) => return Ok(self.guard(name, holder, ttl, taken_at)),
                Err(expiry) => {
                    tokio::select! {
                        _ = released => {}
                        _ = tokio::time::sleep_until(expiry) => {}
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
            .await
            .ok()
            .map(|(holder, taken_at)| self.guard(name, holder, ttl, taken_at)))
    }
}

impl MemoryStore {
    fn guard(&self, name: &Key, holder: u128, ttl: Duration, taken_at: Instant) -> LockGuard {
        lease::guard(self.inner.clone(), name.clone(), holder, ttl, taken_at)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}
