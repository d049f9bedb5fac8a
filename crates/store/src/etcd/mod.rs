//! The etcd backend (cargo feature `etcd`): the [`Storage`] contract kept by an etcd v3
//! cluster, for several certfleet nodes sharing one state.
//!
//! # How the contract maps onto etcd
//!
//! - **Keys** live under a namespace (`certfleet/` by default): data at
//!   `<namespace>kv/<key>`, locks at `<namespace>lock/<name>`. Listing or watching the
//!   root therefore never sees foreign keys nor lock keys, and several certfleet
//!   installations (or tests) can share one etcd cluster with different namespaces.
//! - **Revisions** are etcd's: an [`Entry`]'s revision is the key's `mod_revision`, a
//!   write answers the revision of its transaction. etcd's counter is cluster-wide and
//!   shared by every namespace, so revisions are strictly increasing but not
//!   consecutive.
//! - **Durability**: etcd acknowledges a write once a quorum has committed it.
//! - **Compare-and-swap** is one transaction comparing `create_revision` (absent) or
//!   `mod_revision` (and `version > 0`), reading the key on the failure branch.
//! - **Watch** uses etcd's watch with `start_revision = from + 1`; a transport failure
//!   is healed by re-opening the watch after the last revision delivered, so the
//!   stream stays gap-free. A compacted start yields [`StoreError::Compacted`].
//! - **Locks**: a lease of `ttl` plus a create-if-absent transaction on the lock key
//!   attached to the lease, kept alive every `ttl / 3`.
//!
//! # The client
//!
//! The gRPC client is certfleet's own (`client.rs`): stubs generated at build time from
//! the `.proto` files in `proto/`, which declare only the parts of etcd's v3 API this
//! backend calls, compiled by protox (no `protoc` needed).
//!
//! # Bounded time
//!
//! Every call to etcd runs under [`EtcdOptions::request_timeout`] (5 s by default):
//! when etcd is unreachable callers get [`StoreError::Timeout`] or
//! [`StoreError::Unavailable`] instead of hanging. The gRPC channel reconnects by itself
//! when etcd comes back; nothing needs to be rebuilt by the caller.
//!
//! # A member down
//!
//! The client spreads calls over every endpoint given, and one whose member is down
//! stays in its rotation: a call routed there fails at connecting, before anything is
//! sent. Such a call is made again (a few times, within the same time limit), so that
//! with a quorum of members up callers see no error; a write proposed at the moment
//! the leader dies may still wait for etcd's own proposal timeout and time out.
//!
//! ```no_run
//! # async fn demo() -> certfleet_store::Result<()> {
//! use certfleet_store::etcd::{EtcdOptions, EtcdStore};
//! use certfleet_store::{Key, Storage};
//! let endpoints = vec!["http://127.0.0.1:2379".to_owned()];
//! let store = EtcdStore::connect(&endpoints, EtcdOptions::default()).await?;
//! let key = Key::from_segments(["domains", "example.com"])?;
//! store.put(&key, b"{}").await?;
//! assert!(store.get(&key).await?.is_some());
//! # Ok(()) }
//! ```

mod client;
mod kv;
mod lock;
mod paging;
mod pb;
mod watch;

use crate::error::{Result, StoreError};
use crate::key::Key;
use crate::storage::{CasOutcome, Entry, Expect, LockGuard, Storage, WatchStream};
use async_trait::async_trait;
use client::{EtcdClient, Rpc};
use std::future::Future;
use std::time::Duration;
use tonic::Status;

/// How many times [`EtcdStore::call`] makes a call that failed at connecting: with one
/// member of three down, about one call in five is routed to it, so eight attempts
/// leave a call failing this way about once in half a million.
const NEVER_SENT_ATTEMPTS: u32 = 8;
/// First and longest pause between those attempts (about 0.7 s in all when every
/// member is down, after which the call fails as unavailable).
const NEVER_SENT_PAUSE_FIRST: Duration = Duration::from_millis(10);
const NEVER_SENT_PAUSE_MAX: Duration = Duration::from_millis(200);

/// How to reach etcd and where to keep certfleet's keys in it.
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    /// The prefix of every etcd key this store writes (`certfleet/` by default); a
    /// trailing `/` is added when missing.
    pub namespace: String,
    /// The most time one etcd call may take before it fails with
    /// [`StoreError::Timeout`] (5 s by default).
    pub request_timeout: Duration,
    /// The most time opening a TCP connection to an endpoint may take (2 s by default).
    pub connect_timeout: Duration,
    /// Entries asked for by a listing's first page, and the fewest any later page asks
    /// for (100 by default; etcd values are at most 1.5 MiB, so such a page stays under
    /// the client's message limit).
    pub list_page_size: i64,
    /// The size of etcd's answer, in bytes, that a listing's later pages grow towards
    /// from the size of the entries read so far (16 MiB by default; at most a quarter of
    /// the client's 256 MiB message limit is used). etcd 3.4 spends time on every key
    /// left in the range for each page, so few large pages read a large prefix much
    /// faster than many small ones. A budget below one entry's size keeps every page at
    /// [`EtcdOptions::list_page_size`].
    pub list_page_bytes: usize,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            namespace: "certfleet/".to_owned(),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            list_page_size: 100,
            list_page_bytes: 16 << 20,
        }
    }
}

impl EtcdOptions {
    /// These options with another namespace.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// These options with another per-call time limit.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// A [`Storage`] backed by an etcd v3 cluster. Cheap to clone: clones share the
/// connection.
#[derive(Clone)]
pub struct EtcdStore {
    client: EtcdClient,
    options: EtcdOptions,
    /// `<namespace>kv/`: the prefix of every data key.
    data_prefix: String,
    /// `<namespace>lock/`: the prefix of every lock key.
    lock_prefix: String,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("namespace", &self.options.namespace)
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// Connects to the etcd cluster at `endpoints` (`http://host:port` URLs) and checks
    /// that it answers within [`EtcdOptions::request_timeout`].
    pub async fn connect(endpoints: &[String], options: EtcdOptions) -> Result<EtcdStore> {
        if endpoints.is_empty() {
            return Err(StoreError::Unavailable(
                "no etcd endpoints given".to_owned(),
            ));
        }
        let mut options = options;
        if !options.namespace.is_empty() && !options.namespace.ends_with('/') {
            options.namespace.push('/');
        }
        let client = EtcdClient::connect(endpoints, &options).await?;
        let store = EtcdStore {
            client,
            data_prefix: format!("{}kv/", options.namespace),
            lock_prefix: format!("{}lock/", options.namespace),
            options,
        };
        store.current_revision().await?;
        Ok(store)
    }

    /// The options this store was opened with.
    pub fn options(&self) -> &EtcdOptions {
        &self.options
    }

    /// Runs one etcd call under the request timeout. `attempt` makes the call, and makes
    /// it again (up to [`NEVER_SENT_ATTEMPTS`] times, within the same time limit) while
    /// it fails in a way `resend` allows: see [`Resend`].
    async fn call<T, F, Fut>(&self, resend: Resend, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Rpc<T>>,
    {
        let retried = async {
            let mut pause = NEVER_SENT_PAUSE_FIRST;
            let mut tries = 1;
            loop {
                match attempt().await {
                    Err(err) if resend.allows(&err) && tries < NEVER_SENT_ATTEMPTS => {
                        tries += 1;
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(NEVER_SENT_PAUSE_MAX);
                    }
                    answer => return answer,
                }
            }
        };
        bounded(self.options.request_timeout, retried).await
    }

    /// Runs one step of an open stream (a watch, a lease keep-alive) under the request
    /// timeout, once: a stream is bound to the member it was opened on.
    async fn call_once<T, F>(&self, fut: F) -> Result<T>
    where
        F: Future<Output = Rpc<T>>,
    {
        bounded(self.options.request_timeout, fut).await
    }

    /// The etcd key of a data key.
    fn data_key(&self, key: &Key) -> Vec<u8> {
        format!("{}{}", self.data_prefix, key.as_str()).into_bytes()
    }

    /// The etcd range `[start, end)` holding `prefix` and its descendants (and possibly
    /// a few siblings such as `prefix-x`, which callers filter with [`Key::covers`]).
    fn data_range(&self, prefix: &Key) -> (Vec<u8>, Vec<u8>) {
        if prefix.as_str().is_empty() {
            let start = self.data_prefix.clone().into_bytes();
            let end = prefix_end(&start);
            (start, end)
        } else {
            let start = self.data_key(prefix);
            // '0' is the byte after '/': the range ends past every `prefix/...` key.
            let mut end = start.clone();
            end.push(b'0');
            (start, end)
        }
    }

    /// The [`Key`] of an etcd data key, or `None` for a key outside `prefix`.
    fn key_of(&self, raw: &[u8], prefix: &Key) -> Result<Option<Key>> {
        let text = std::str::from_utf8(raw)
            .map_err(|_| StoreError::Corrupt("etcd key is not UTF-8".to_owned()))?;
        let Some(stored) = text.strip_prefix(&self.data_prefix) else {
            return Ok(None);
        };
        if !prefix.covers(stored) {
            return Ok(None);
        }
        Key::parse(stored).map(Some)
    }

    /// The etcd key of a lock.
    fn lock_key(&self, name: &Key) -> Vec<u8> {
        format!("{}{}", self.lock_prefix, name.as_str()).into_bytes()
    }
}

/// Which failed calls [`EtcdStore::call`] may make again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resend {
    /// Only a call that never left this process: the client balances calls over every
    /// endpoint, a member that is down stays in its rotation, and each call routed to it
    /// fails at connecting. Safe for every call, compare-and-swap, delete and lock
    /// acquisition included.
    IfNeverSent,
    /// Also a call whose connection was lost or whose member was unavailable after it
    /// was sent (a member killed while a connection to it was open answers "broken
    /// pipe" on that connection). Only for calls whose repetition cannot change their
    /// answer: reads, a put of the same value, a lease grant, a lease revoke, opening a
    /// watch.
    IfLost,
}

impl Resend {
    fn allows(self, err: &Status) -> bool {
        match self {
            Resend::IfNeverSent => never_sent(err),
            Resend::IfLost => never_sent(err) || connection_lost(err),
        }
    }
}

/// True when `err` says the connection or the member went away rather than that etcd
/// refused the call: a gRPC `Unavailable` status (which is also how the channel reports
/// a transport or I/O failure), or an `Unknown` status carrying a transport error (a
/// stream of a connection to a killed member ends with "broken pipe" that way).
fn connection_lost(err: &Status) -> bool {
    match err.code() {
        tonic::Code::Unavailable => true,
        tonic::Code::Unknown => err.message().contains("transport error"),
        _ => false,
    }
}

/// True when `err` is a failure to connect to the endpoint the client picked: the call
/// never left this process.
fn never_sent(status: &Status) -> bool {
    if status.code() != tonic::Code::Unavailable {
        return false;
    }
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(status);
    while let Some(current) = cause {
        if current.is::<tonic::ConnectError>() {
            return true;
        }
        cause = current.source();
    }
    false
}

/// Runs `fut` for at most `limit`, mapping a failed call to [`StoreError`].
async fn bounded<T, F>(limit: Duration, fut: F) -> Result<T>
where
    F: Future<Output = Rpc<T>>,
{
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(unavailable(err)),
        Err(_) => Err(StoreError::Timeout(limit)),
    }
}

/// A failed etcd call as a (retryable) store error: the gRPC status's code, its message
/// and the innermost cause (such as "Connection refused").
fn unavailable(status: Status) -> StoreError {
    let mut message = format!("etcd: {}", status.code());
    if !status.message().is_empty() {
        message = format!("{message}: {}", status.message());
    }
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&status);
    let mut innermost = None;
    while let Some(current) = cause {
        innermost = Some(current);
        cause = current.source();
    }
    if let Some(innermost) = innermost {
        message = format!("{message} ({innermost})");
    }
    StoreError::Unavailable(message)
}

/// The smallest key greater than every key starting with `prefix` (etcd's range end for
/// a prefix); `[0]` (the whole key space) when `prefix` is all `0xff` bytes.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// etcd revisions are `i64`; ours are `u64`. Negative values never come from etcd.
fn rev(revision: i64) -> u64 {
    u64::try_from(revision).unwrap_or(0)
}

/// Our revisions as etcd's `i64`, saturating (no etcd cluster reaches 2^63 revisions).
fn etcd_rev(revision: u64) -> i64 {
    i64::try_from(revision).unwrap_or(i64::MAX)
}

#[async_trait]
impl Storage for EtcdStore {
    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.get_entry(key).await
    }

    async fn put(&self, key: &Key, value: &[u8]) -> Result<u64> {
        self.put_value(key, value).await
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        self.delete_key(key).await
    }

    async fn list(&self, prefix: &Key) -> Result<Vec<Entry>> {
        self.list_prefix(prefix).await
    }

    async fn compare_and_swap(
        &self,
        key: &Key,
        expect: Expect,
        value: &[u8],
    ) -> Result<CasOutcome> {
        self.cas(key, expect, value).await
    }

    async fn watch(&self, prefix: &Key, from: Option<u64>) -> Result<WatchStream> {
        self.watch_prefix(prefix, from).await
    }

    async fn revision(&self) -> Result<u64> {
        self.current_revision().await
    }

    async fn lock(&self, name: &Key, ttl: Duration) -> Result<LockGuard> {
        self.lock_wait(name, ttl).await
    }

    async fn try_lock(&self, name: &Key, ttl: Duration) -> Result<Option<LockGuard>> {
        self.lock_try(name, ttl).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_the_last_byte() {
        assert_eq!(prefix_end(b"ab"), b"ac".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
    }

    #[test]
    fn revisions_convert_without_panics() {
        assert_eq!(rev(-1), 0);
        assert_eq!(rev(7), 7);
        assert_eq!(etcd_rev(u64::MAX), i64::MAX);
    }
}
