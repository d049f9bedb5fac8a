//! Alerts raised by the edge: a domain certificate served although expired or not
//! covering the SNI name, and a certdir that failed to reload.
//!
//! Recording never blocks and never takes a lock: counters are atomics, and events go
//! into a bounded lock-free queue (`crossbeam_queue::ArrayQueue`). When the queue is full
//! the oldest event is dropped to make room (the newest state matters most) and the drop
//! is counted. The monitor drains the queue on its own schedule; counters keep counting
//! whatever happens to events.

use crossbeam_queue::ArrayQueue;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A domain's certificate was served after its validity ended.
    Expired,
    /// A domain's certificate was served for a name it does not cover.
    NameMismatch,
    /// A certdir reload failed; the previous certificate (or the default) stays.
    CertdirReloadFailed,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertEvent {
    /// What went wrong.
    pub kind: AlertKind,
    /// When, in Unix seconds.
    pub at_unix: i64,
    /// The listener role.
    pub role: String,
    /// The SNI name of the handshake, if any.
    pub sni: Option<String>,
    /// The domain whose certificate was served, if any.
    pub domain: Option<String>,
    /// SHA-1 thumbprint of the certificate concerned (empty for a certdir that never
    /// loaded).
    pub sha1_thumbprint: String,
    /// A sentence for logs.
    pub message: String,
}

/// Totals since start, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AlertCounts {
    /// Expired domain certificates served.
    pub expired: u64,
    /// Domain certificates served for names they do not cover.
    pub name_mismatch: u64,
    /// Failed certdir reloads.
    pub certdir_reload_failed: u64,
    /// Events dropped because the queue was full.
    pub dropped: u64,
}

/// The edge's alert sink.
#[derive(Debug)]
pub struct Alerts {
    queue: ArrayQueue<AlertEvent>,
    expired: AtomicU64,
    name_mismatch: AtomicU64,
    certdir_reload_failed: AtomicU64,
    dropped: AtomicU64,
}

/// Queue length used by [`Alerts::default`].
pub const DEFAULT_ALERT_CAPACITY: usize = 1024;

impl Default for Alerts {
    fn default() -> Self {
        Alerts::new(DEFAULT_ALERT_CAPACITY)
    }
}

impl Alerts {
    /// A sink keeping at most `capacity` undrained events (at least 1).
    pub fn new(capacity: usize) -> Self {
        Alerts {
            queue: ArrayQueue::new(capacity.max(1)),
            expired: AtomicU64::new(0),
            name_mismatch: AtomicU64::new(0),
            certdir_reload_failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Counts the event and queues it, dropping the oldest queued event when full.
    pub fn record(&self, event: AlertEvent) {
        let counter = match event.kind {
            AlertKind::Expired => &self.expired,
            AlertKind::NameMismatch => &self.name_mismatch,
            AlertKind::CertdirReloadFailed => &self.certdir_reload_failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if self.queue.force_push(event).is_some() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Takes every queued event, oldest first.
    pub fn drain(&self) -> Vec<AlertEvent> {
        std::iter::from_fn(|| self.queue.pop()).collect()
    }

    /// Totals since start.
    pub fn counts(&self) -> AlertCounts {
        AlertCounts {
            expired: self.expired.load(Ordering::Relaxed),
            name_mismatch: self.name_mismatch.load(Ordering::Relaxed),
            certdir_reload_failed: self.certdir_reload_failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: AlertKind, n: i64) -> AlertEvent {
        AlertEvent {
            kind,
            at_unix: n,
            role: "ws".into(),
            sni: None,
            domain: None,
            sha1_thumbprint: String::new(),
            message: String::new(),
        }
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_everything() {
        let alerts = Alerts::new(2);
        for n in 0..5 {
            alerts.record(event(AlertKind::Expired, n));
        }
        alerts.record(event(AlertKind::NameMismatch, 5));
        let drained: Vec<i64> = alerts.drain().iter().map(|e| e.at_unix).collect();
        assert_eq!(drained, [4, 5]);
        assert_eq!(
            alerts.counts(),
            AlertCounts {
                expired: 5,
                name_mismatch: 1,
                certdir_reload_failed: 0,
                dropped: 4
            }
        );
        assert!(alerts.drain().is_empty());
    }
}
