//! In-process watch fan-out, shared by the memory and embedded backends.
//!
//! A backend keeps a bounded log of its changes (the [`History`]) and publishes each
//! committed change on a [`Hub`]. A watcher subscribes to the hub first, then replays
//! the log after its starting revision, then follows the live changes, skipping those
//! it already delivered. These backends give every change the next revision with no
//! gaps, so a live change that skips ahead (the watcher lagged, or two commits were
//! published out of order) sends the watcher back to the log: it never loses a change
//! and never delivers one twice. A change that fell out of the log ends the stream
//! with [`StoreError::Compacted`].

use crate::error::{Result, StoreError};
use crate::key::Key;
use crate::storage::{WatchEvent, WatchStream};
use async_trait::async_trait;
use std::sync::{Arc, Weak};
use tokio::sync::{broadcast, mpsc};

/// Changes replayed from the log per read.
const BATCH: usize = 256;
/// Live changes buffered per subscriber before it must fall back to the log.
const LIVE_BUFFER: usize = 1024;
/// Changes buffered per watch stream before the forwarding task waits for the reader.
const STREAM_BUFFER: usize = 256;

/// How much change history a backend keeps for watchers that resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimit {
    /// At most this many of the latest revisions (10,000 by default).
    pub revisions: u64,
    /// At most this many bytes of keys and values (64 MiB by default); the latest change
    /// is always kept.
    pub bytes: u64,
}

impl Default for HistoryLimit {
    fn default() -> Self {
        HistoryLimit {
            revisions: 10_000,
            bytes: 64 << 20,
        }
    }
}

impl HistoryLimit {
    /// The bytes one change counts for against [`HistoryLimit::bytes`].
    pub(crate) fn cost(key: &str, value: &[u8]) -> u64 {
        (key.len() + value.len() + 16) as u64
    }

    /// True when a log of `count` changes weighing `bytes` must drop its oldest.
    pub(crate) fn exceeded(&self, count: u64, bytes: u64) -> bool {
        count > self.revisions.max(1) || (bytes > self.bytes && count > 1)
    }
}

/// A backend's log of recent changes.
#[async_trait]
pub(crate) trait History: Send + Sync + 'static {
    /// Up to `limit` changes with revisions above `after`, in order, under any prefix;
    /// [`StoreError::Compacted`] when some of them are no longer kept.
    async fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<WatchEvent>>>;

    /// The latest revision.
    async fn current(&self) -> Result<u64>;
}

/// The compaction error for a watcher that needs changes after `after` from a log that
/// dropped everything up to `compacted_through`.
pub(crate) fn compacted(after: u64, compacted_through: u64) -> StoreError {
    StoreError::Compacted {
        requested: after,
        oldest: compacted_through + 1,
    }
}

/// Where committed changes are published to this process's watchers.
pub(crate) struct Hub {
    live: broadcast::Sender<Arc<WatchEvent>>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            live: broadcast::channel(LIVE_BUFFER).0,
        }
    }
}

impl Hub {
    /// Publishes one committed change.
    pub(crate) fn publish(&self, event: Arc<WatchEvent>) {
        // No subscriber is not an error: nobody is watching.
        let _ = self.live.send(event);
    }

    /// The number of live subscribers (watch streams still forwarding).
    #[cfg(test)]
    pub(crate) fn subscribers(&self) -> usize {
        self.live.receiver_count()
    }

    /// A stream of every change under `prefix` after `from` (after now when `None`).
    pub(crate) async fn watch(
        &self,
        history: Arc<dyn History>,
        prefix: Key,
        from: Option<u64>,
    ) -> Result<WatchStream> {
        let live = self.live.subscribe();
        let start = match from {
            Some(revision) => revision,
            None => history.current().await?,
        };
        // Read the first batch here so a compacted start is the caller's error.
        let first = history.changes_after(start, BATCH).await?;
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let forwarder = Forwarder {
            history: Arc::downgrade(&history),
            prefix,
            last: start,
            tx,
        };
        tokio::spawn(forwarder.run(live, first));
        Ok(rx)
    }
}

/// The task behind one watch stream.
struct Forwarder {
    /// Held weakly, so that a watch never keeps a closed store open.
    history: Weak<dyn History>,
    prefix: Key,
    /// The last revision handled (delivered or filtered out).
    last: u64,
    tx: mpsc::Sender<Result<WatchEvent>>,
}

impl Forwarder {
    async fn run(
        mut self,
        mut live: broadcast::Receiver<Arc<WatchEvent>>,
        first: Vec<Arc<WatchEvent>>,
    ) {
        let mut replay = first;
        loop {
            if !self.replay(replay).await {
                return;
            }
            replay = match self.follow(&mut live).await {
                Some(batch) => batch,
                None => return,
            };
        }
    }

    /// Delivers `batch` and the rest of the log after it; false when the stream ended.
    async fn replay(&mut self, mut batch: Vec<Arc<WatchEvent>>) -> bool {
        loop {
            let full = batch.len() >= BATCH;
            for event in batch {
                if !self.deliver(&event).await {
                    return false;
                }
            }
            if !full {
                return true;
            }
            batch = match self.read_log().await {
                Some(batch) => batch,
                None => return false,
            };
        }
    }

    /// Follows live changes until the watcher must replay from the log (`Some`) or the
    /// stream ended (`None`).
    async fn follow(
        &mut self,
        live: &mut broadcast::Receiver<Arc<WatchEvent>>,
    ) -> Option<Vec<Arc<WatchEvent>>> {
        loop {
            let received = tokio::select! {
                _ = self.tx.closed() => return None,
                received = live.recv() => received,
            };
            match received {
                Ok(event) if event.revision() <= self.last => {}
                Ok(event) if event.revision() == self.last + 1 => {
                    if !self.deliver(&event).await {
                        return None;
                    }
                }
                // A gap: lagged, or published out of order. The log has it all.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    return self.read_log().await
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next batch of the log, or `None` after telling the watcher why not.
    async fn read_log(&mut self) -> Option<Vec<Arc<WatchEvent>>> {
        let read = match self.history.upgrade() {
            Some(history) => history.changes_after(self.last, BATCH).await,
            None => Err(StoreError::Unavailable("the store was closed".into())),
        };
        match read {
            Ok(batch) => Some(batch),
            Err(error) => {
                let _ = self.tx.send(Err(error)).await;
                None
            }
        }
    }

    /// Sends `event` if it is new and under the prefix; false when the reader is gone.
    async fn deliver(&mut self, event: &WatchEvent) -> bool {
        if event.revision() <= self.last {
            return true;
        }
        self.last = event.revision();
        if !self.prefix.covers(event.key().as_str()) {
            return true;
        }
        self.tx.send(Ok(event.clone())).await.is_ok()
    }
}
