//! The expiry watcher: an owned background task that evaluates the inventory every
//! `[monitor] interval_seconds` (300 by default), and within a second of any change to
//! the certificates served (the hub's snapshot is swapped on every domain, certdir or
//! default-certificate change).
//!
//! When a certificate enters `warning` or `expired` (the first evaluation after start
//! included) it is logged once and kept on the alert board (`certificate_warning`,
//! `certificate_expired`; `GET /api/alerts`), and posted to `[monitor] webhook` when set
//! ([`webhook`]). A certificate whose state has not changed is not reported again.
//!
//! The watcher knows nothing of the server: it reads the inventory through an
//! [`InventorySource`] and is handed the hub, the alert board, the counters and the
//! settings in a [`WatchSetup`].
//!
//! Panic containment: each evaluation and each delivery runs on a task of its own, so a
//! panic there is raised as an alert and the watch goes on. [`ExpiryWatcher::stop`] ends
//! the task, giving deliveries in flight a moment to finish.

pub mod webhook;

use crate::alerts::{AlertBoard, AlertKind};
use crate::event::ExpiryEvent;
use crate::inventory::Inventory;
use crate::metrics::ServerMetrics;
use crate::watch::ExpiryWatch;
use certfleet_edge::hub::CertificateHub;
use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use webhook::{Webhook, RETRY_DELAYS};

/// How often the hub is checked for a changed snapshot.
const CHANGE_POLL: Duration = Duration::from_secs(1);
/// How long deliveries in flight may take to finish once the watcher is stopped.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What the watcher shares with the metrics endpoint.
#[derive(Debug, Default)]
pub struct MonitorShared {
    /// The Prometheus registry (built once).
    pub metrics: ServerMetrics,
    /// Webhook posts delivered since start.
    pub webhook_delivered: AtomicU64,
    /// Webhook posts given up on since start.
    pub webhook_failed: AtomicU64,
    /// When the last evaluation finished (Unix seconds; 0 before the first).
    pub last_evaluation_unix: AtomicI64,
}

/// Where the watcher reads the inventory from.
pub trait InventorySource: Send + Sync + 'static {
    /// The inventory as of now.
    fn inventory(&self) -> impl Future<Output = Inventory> + Send;
}

/// What the watcher is handed.
pub struct WatchSetup<S> {
    /// The inventory.
    pub source: S,
    /// The certificates served: a swapped snapshot means a change to evaluate at once.
    pub hub: Arc<CertificateHub>,
    /// Where events and failures are raised.
    pub alerts: Arc<AlertBoard>,
    /// The counters the metrics read.
    pub shared: Arc<MonitorShared>,
    /// `[monitor] interval_seconds`.
    pub interval: Duration,
    /// `[monitor] webhook`, when set.
    pub webhook: Option<String>,
}

/// The running watcher; [`ExpiryWatcher::stop`] ends it.
pub struct ExpiryWatcher {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ExpiryWatcher {
    /// Starts watching the certificates of `setup`.
    pub fn start<S: InventorySource>(setup: WatchSetup<S>) -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(watch(Arc::new(setup), stopped));
        ExpiryWatcher { stop, task }
    }

    /// Stops the watcher and waits for it (deliveries in flight get two seconds).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(STOP_GRACE + Duration::from_secs(1), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// The watch loop: evaluate when due or changed, hand out the events, reap deliveries.
async fn watch<S: InventorySource>(setup: Arc<WatchSetup<S>>, mut stopped: oneshot::Receiver<()>) {
    let webhook = setup.webhook.as_deref().and_then(|url| {
        Webhook::new(url)
            .map_err(|err| {
                setup.alerts.raise(
                    AlertKind::WebhookFailed,
                    None,
                    format!("the webhook client could not be built: {err}"),
                    1,
                );
            })
            .ok()
            .map(Arc::new)
    });
    let expiry = Arc::new(Mutex::new(ExpiryWatch::new()));
    let mut deliveries = JoinSet::new();
    let mut last_snapshot = None;
    let mut last_run: Option<Instant> = None;
    loop {
        let snapshot = setup.hub.snapshot();
        let changed = last_snapshot
            .as_ref()
            .is_none_or(|last| !Arc::ptr_eq(last, &snapshot));
        let due = last_run.is_none_or(|at| at.elapsed() >= setup.interval);
        if changed || due {
            last_snapshot = Some(snapshot);
            last_run = Some(Instant::now());
            let mut evaluation = tokio::spawn(evaluate(Arc::clone(&setup), Arc::clone(&expiry)));
            let outcome = tokio::select! {
                _ = &mut stopped => {
                    evaluation.abort();
                    break;
                }
                outcome = &mut evaluation => outcome,
            };
            match outcome {
                Ok(events) => {
                    for event in events {
                        setup.alerts.raise(
                            event.alert_kind(),
                            event.domain.as_deref(),
                            event.message(),
                            1,
                        );
                        if let Some(webhook) = &webhook {
                            deliveries.spawn(webhook::deliver(
                                Arc::clone(webhook),
                                event,
                                &RETRY_DELAYS,
                                Arc::clone(&setup.shared),
                                Arc::clone(&setup.alerts),
                            ));
                        }
                    }
                }
                Err(err) => contained(&setup.alerts, "the expiry evaluation", &err),
            }
        }
        while let Some(done) = deliveries.try_join_next() {
            if let Err(err) = done {
                contained(&setup.alerts, "a webhook delivery", &err);
            }
        }
        tokio::select! {
            _ = &mut stopped => break,
            () = tokio::time::sleep(CHANGE_POLL) => {}
        }
    }
    let _ = tokio::time::timeout(STOP_GRACE, async {
        while deliveries.join_next().await.is_some() {}
    })
    .await;
    deliveries.abort_all();
}

/// Raises a task that panicked (a cancelled one is not news).
fn contained(alerts: &AlertBoard, what: &str, err: &tokio::task::JoinError) {
    if err.is_panic() {
        alerts.raise(
            AlertKind::MonitorFailed,
            None,
            format!("{what} panicked; the expiry watch goes on and evaluates again at the next interval"),
            1,
        );
    }
}

/// Evaluates the inventory: the events of the certificates that entered `warning` or
/// `expired` since the last evaluation.
async fn evaluate<S: InventorySource>(
    setup: Arc<WatchSetup<S>>,
    expiry: Arc<Mutex<ExpiryWatch>>,
) -> Vec<ExpiryEvent> {
    let inventory = setup.source.inventory().await;
    let events = {
        // A panic in an earlier evaluation leaves the last states as they were.
        let mut expiry = expiry.lock().unwrap_or_else(PoisonError::into_inner);
        expiry
            .observe(&inventory.entries)
            .iter()
            .map(ExpiryEvent::from_transition)
            .collect()
    };
    setup
        .shared
        .last_evaluation_unix
        .store(inventory.at.unix_timestamp(), Ordering::Relaxed);
    events
}

#[cfg(test)]
mod tests;
