//! Lease-based locks on etcd.
//!
//! Taking a lock grants a lease of `ttl` (rounded up to whole seconds; etcd may raise
//! very short ones to its minimum, about 2 s) and runs one transaction: if the lock key
//! `<namespace>lock/<name>` does not exist, create it attached to the lease. The holder's
//! guard renews the lease every `ttl / 3` in a background task. When the holder dies
//! (process killed, node lost, network cut) nobody renews, etcd expires the lease and
//! deletes the key with it, and the next taker gets the lock. Releasing revokes the
//! lease, which deletes the key at once.
//!
//! A waiter ([`Storage::lock`](crate::Storage::lock)) watches the lock key for its
//! deletion, then tries again; it also retries after each `ttl` in case a deletion was
//! missed. Every etcd call is bounded by the store's request timeout, so waiting for a
//! lock while etcd is down fails instead of hanging.

use super::kv::{absent, header_revision, put_op};
use super::pb::etcdserverpb::{PutRequest, TxnRequest, WatchCreateRequest};
use super::pb::mvccpb::event::EventType;
use super::{rev, EtcdStore, Resend};
use crate::error::{Result, StoreError};
use crate::key::Key;
use crate::storage::{LockGuard, LockRelease};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The outcome of one attempt to take a lock.
enum Attempt {
    Held(LockGuard),
    /// Someone else holds it; the attempt saw the store at this revision.
    Busy(u64),
}

impl EtcdStore {
    pub(super) async fn lock_try(&self, name: &Key, ttl: Duration) -> Result<Option<LockGuard>> {
        match self.acquire(name, ttl).await? {
            Attempt::Held(guard) => Ok(Some(guard)),
            Attempt::Busy(_) => Ok(None),
        }
    }

    pub(super) async fn lock_wait(&self, name: &Key, ttl: Duration) -> Result<LockGuard> {
        loop {
            match self.acquire(name, ttl).await? {
                Attempt::Held(guard) => return Ok(guard),
                Attempt::Busy(revision) => self.wait_for_release(name, revision, ttl).await,
            }
        }
    }

    /// One attempt: a fresh lease and a create-if-absent transaction on the lock key.
    async fn acquire(&self, name: &Key, ttl: Duration) -> Result<Attempt> {
        let seconds = i64::try_from(ttl.as_millis().div_ceil(1000))
            .unwrap_or(i64::MAX)
            .max(1);
        let granted = self
            .call(Resend::IfLost, || self.client.lease_grant(seconds))
            .await?;
        let id = granted.id;
        let key = self.lock_key(name);
        let txn = TxnRequest {
            compare: vec![absent(key.clone())],
            success: vec![put_op(PutRequest {
                key,
                value: format!("{id:x}").into_bytes(),
                lease: id,
            })],
            failure: Vec::new(),
        };
        let attempt = || self.client.txn(txn.clone());
        let response = match self.call(Resend::IfNeverSent, attempt).await {
            Ok(response) => response,
            Err(err) => {
                // The transaction may still have landed: revoking the lease undoes it.
                self.revoke_later(id);
                return Err(err);
            }
        };
        if !response.succeeded {
            self.revoke_later(id);
            return Ok(Attempt::Busy(header_revision(response.header.as_ref())?));
        }
        let held = Arc::new(AtomicBool::new(true));
        let (stop, stopped) = oneshot::channel();
        let lease_ttl = Duration::from_secs(rev(granted.ttl).max(1));
        tokio::spawn(keep_alive(
            self.clone(),
            id,
            lease_ttl,
            held.clone(),
            stopped,
        ));
        let lock = EtcdLock {
            store: self.clone(),
            lease: id,
            held,
            stop: Some(stop),
            name: name.as_str().to_owned(),
        };
        Ok(Attempt::Held(LockGuard::new(name.clone(), Box::new(lock))))
    }

    /// Waits until the lock key is deleted after `revision`, or `ttl` has passed, or the
    /// watch fails (the next attempt then reports etcd's state).
    async fn wait_for_release(&self, name: &Key, revision: u64, ttl: Duration) {
        let create = WatchCreateRequest {
            key: self.lock_key(name),
            range_end: Vec::new(),
            start_revision: super::etcd_rev(revision + 1),
        };
        let opened = self
            .call(Resend::IfLost, || self.client.watch(create.clone()))
            .await;
        let Ok(mut stream) = opened else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            return;
        };
        let released = async {
            while let Ok(Some(response)) = stream.message().await {
                let deleted = response
                    .events
                    .iter()
                    .any(|event| event.r#type() == EventType::Delete);
                if deleted || response.canceled {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(ttl.max(Duration::from_secs(1)), released).await;
    }

    /// Revokes a lease in the background; if that fails it expires on its own.
    fn revoke_later(&self, id: i64) {
        let store = self.clone();
        tokio::spawn(async move {
            let _ = store
                .call(Resend::IfLost, || store.client.lease_revoke(id))
                .await;
        });
    }
}

/// A held etcd lock: the lease, and the switch that stops its renewal.
struct EtcdLock {
    store: EtcdStore,
    lease: i64,
    held: Arc<AtomicBool>,
    /// Dropping or firing it stops the keep-alive task.
    stop: Option<oneshot::Sender<()>>,
    name: String,
}

#[async_trait]
impl LockRelease for EtcdLock {
    async fn release(mut self: Box<Self>) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let was_held = self.held.swap(false, Ordering::SeqCst);
        let id = self.lease;
        let revoked = self
            .store
            .call(Resend::IfLost, || self.store.client.lease_revoke(id))
            .await;
        match revoked {
            Ok(_) if was_held => Ok(()),
            Ok(_) => Err(StoreError::LockLost(self.name.clone())),
            Err(StoreError::Unavailable(message)) if message.contains("lease not found") => {
                Err(StoreError::LockLost(self.name.clone()))
            }
            Err(err) => Err(err),
        }
    }

    fn is_held(&self) -> bool {
        self.held.load(Ordering::SeqCst)
    }
}

/// Renews lease `id` every `ttl / 3` until `stop` fires (or its sender is dropped) or
/// etcd says the lease is gone. `held` is false while the lease may have expired.
async fn keep_alive(
    store: EtcdStore,
    id: i64,
    ttl: Duration,
    held: Arc<AtomicBool>,
    mut stop: oneshot::Receiver<()>,
) {
    let period = ttl / 3;
    let mut expires = Instant::now() + ttl;
    let mut channel = None;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(period) => {}
        }
        let sent = Instant::now();
        let renewal = async {
            if channel.is_none() {
                channel = Some(
                    store
                        .call(Resend::IfLost, || store.client.lease_keep_alive(id))
                        .await?,
                );
            }
            let Some(keeper) = channel.as_mut() else {
                return Ok(None);
            };
            store.call_once(keeper.renew()).await
        };
        let answer = tokio::select! {
            _ = &mut stop => return,
            answer = renewal => answer,
        };
        match answer {
            Ok(Some(response)) if response.ttl > 0 => {
                expires = sent + Duration::from_secs(rev(response.ttl));
                held.store(true, Ordering::SeqCst);
            }
            Ok(Some(_)) => {
                // etcd no longer knows the lease: it expired and the lock key is gone.
                held.store(false, Ordering::SeqCst);
                return;
            }
            Ok(None) | Err(_) => channel = None,
        }
        if Instant::now() >= expires {
            held.store(false, Ordering::SeqCst);
        }
    }
}
