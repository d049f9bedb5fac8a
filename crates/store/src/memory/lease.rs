//! Lease-based lock guards, shared by the memory and embedded backends.
//!
//! A backend records a lock as (holder id, expiry). [`guard`] wraps a freshly taken
//! record in a [`LockGuard`] whose background task renews it every `ttl / 3`. The task
//! is owned by the guard: releasing stops it and deletes the record; dropping the
//! backend half without releasing ([`LockGuard::abandon`], or a killed process) stops
//! it and leaves the record to expire. A renewal that finds the record gone or taken
//! marks the guard lost; a renewal that fails is retried until the lease runs out.

use crate::error::Result;
use crate::key::Key;
use crate::storage::{LockGuard, LockRelease};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The shortest renewal interval, so a tiny ttl cannot spin.
const MIN_RENEW_EVERY: Duration = Duration::from_millis(10);
/// The longest lease (a year), so deadlines never overflow a clock.
const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// `ttl` within what these backends keep: 1 ms to a year.
pub(crate) fn clamp_ttl(ttl: Duration) -> Duration {
    ttl.clamp(Duration::from_millis(1), MAX_TTL)
}

/// The backend side of a lease.
#[async_trait]
pub(crate) trait Leases: Send + Sync + 'static {
    /// Extends the lease of `holder` on `name` to `ttl` from now; false when the record is
    /// no longer `holder`'s (released, expired or taken).
    async fn renew(&self, name: &Key, holder: u128, ttl: Duration) -> Result<bool>;

    /// Deletes the record if it is still `holder`'s and wakes waiters.
    async fn release(&self, name: &Key, holder: u128) -> Result<()>;
}

/// A holder id unique across processes on this machine: process id, wall-clock
/// nanoseconds and a counter.
pub(crate) fn new_holder() -> u128 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) as u32;
    (u128::from(std::process::id()) << 96) | (u128::from(nanos) << 32) | u128::from(count)
}

/// Wraps a lock record taken at `taken_at` (an instant no later than the write that
/// took it) in a renewing guard. The guard holds the backend weakly: it never keeps a
/// closed store (and its file) open; once the store is gone the lease just runs out.
pub(crate) fn guard(
    leases: Arc<dyn Leases>,
    name: Key,
    holder: u128,
    ttl: Duration,
    taken_at: Instant,
) -> LockGuard {
    let state = Arc::new(LeaseState {
        base: taken_at,
        held: AtomicBool::new(true),
        deadline_ms: AtomicU64::new(ttl.as_millis() as u64),
    });
    let leases = Arc::downgrade(&leases);
    let renewal = tokio::spawn(renew(
        Weak::clone(&leases),
        name.clone(),
        holder,
        ttl,
        Arc::clone(&state),
    ));
    let lease = Lease {
        leases,
        name: name.clone(),
        holder,
        state,
        renewal,
    };
    LockGuard::new(name, Box::new(lease))
}

/// What the guard and its renewal task share.
struct LeaseState {
    base: Instant,
    held: AtomicBool,
    /// Milliseconds after `base` until which the lease is known to be held.
    deadline_ms: AtomicU64,
}

impl LeaseState {
    fn deadline(&self) -> Instant {
        self.base + Duration::from_millis(self.deadline_ms.load(Ordering::Acquire))
    }

    fn extend_to(&self, deadline: Instant) {
        let ms = deadline.saturating_duration_since(self.base).as_millis() as u64;
        self.deadline_ms.store(ms, Ordering::Release);
    }

    fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire) && Instant::now() < self.deadline()
    }
}

/// The renewal loop; ends when the lease is lost (or the task is aborted).
async fn renew(
    leases: Weak<dyn Leases>,
    name: Key,
    holder: u128,
    ttl: Duration,
    state: Arc<LeaseState>,
) {
    let every = (ttl / 3).max(MIN_RENEW_EVERY);
    loop {
        tokio::time::sleep(every).await;
        let started = Instant::now();
        let Some(backend) = leases.upgrade() else {
            break;
        };
        let renewed = backend.renew(&name, holder, ttl).await;
        drop(backend);
        match renewed {
            Ok(true) => state.extend_to(started + ttl),
            Ok(false) => break,
            // Transient failure: keep trying while the lease may still be ours.
            Err(_) if Instant::now() < state.deadline() => {}
            Err(_) => break,
        }
    }
    state.held.store(false, Ordering::Release);
}

/// One held lease: the [`LockRelease`] half of a guard.
struct Lease {
    leases: Weak<dyn Leases>,
    name: Key,
    holder: u128,
    state: Arc<LeaseState>,
    renewal: JoinHandle<()>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Without this the renewal task would keep an abandoned lock alive forever.
        self.renewal.abort();
    }
}

#[async_trait]
impl LockRelease for Lease {
    async fn release(self: Box<Self>) -> Result<()> {
        self.renewal.abort();
        self.state.held.store(false, Ordering::Release);
        match self.leases.upgrade() {
            Some(leases) => leases.release(&self.name, self.holder).await,
            None => Ok(()),
        }
    }

    fn is_held(&self) -> bool {
        self.state.is_held()
    }
}
