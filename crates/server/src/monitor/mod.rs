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
//! Panic containment: each evaluation and each delivery runs on a task of its own, so a
//! panic there is raised as an alert and the watch goes on. [`ExpiryWatcher::stop`] ends
//! the task, giving deliveries in flight a moment to finish.

pub mod webhook;

use super::inventory;
use super::state::AppState;
use certfleet_monitor::event::ExpiryEvent;
use certfleet_monitor::watch::ExpiryWatch;
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
    pub metrics: certfleet_monitor::metrics::ServerMetrics,
    /// Webhook posts delivered since start.
    pub webhook_delivered: AtomicU64,
    /// Webhook posts given up on since start.
    pub webhook_failed: AtomicU64,
    /// When the last evaluation finished (Unix seconds; 0 before the first).
    pub last_evaluation_unix: AtomicI64,
}

/// The running watcher; [`ExpiryWatcher::stop`] ends it.
pub struct ExpiryWatcher {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ExpiryWatcher {
    /// Starts watching `state`'s certificates.
    pub fn start(state: Arc<AppState>) -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(watch(state, stopped));
        ExpiryWatcher { stop, task }
    }

    /// Stops the watcher and waits for it (deliveries in flight get [`STOP_GRACE`]).
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
async fn watch(state: Arc<AppState>, mut stopped: oneshot::Receiver<()>) {
    let webhook = state.config.webhook.as_deref().and_then(|url| {
        Webhook::new(url)
            .map_err(|err| {
                state.alerts.raise(
                    "webhook_failed",
                    None,
                    format!("the webhook client could not be built: {err:#}"),
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
        let snapshot = state.hub.snapshot();
        let changed = last_snapshot
            .as_ref()
            .is_none_or(|last| !Arc::ptr_eq(last, &snapshot));
        let due = last_run.is_none_or(|at| at.elapsed() >= state.config.monitor_interval);
        if changed || due {
            last_snapshot = Some(snapshot);
            last_run = Some(Instant::now());
            let mut evaluation = tokio::spawn(evaluate(Arc::clone(&state), Arc::clone(&expiry)));
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
                        state.alerts.raise(
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
                                Arc::clone(&state.monitor),
                                Arc::clone(&state.alerts),
                            ));
                        }
                    }
                }
                Err(err) => contained(&state, "the expiry evaluation", &err),
            }
        }
        while let Some(done) = deliveries.try_join_next() {
            if let Err(err) = done {
                contained(&state, "a webhook delivery", &err);
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
fn contained(state: &AppState, what: &str, err: &tokio::task::JoinError) {
    if err.is_panic() {
        state.alerts.raise(
            "monitor_failed",
            None,
            format!("{what} panicked; the expiry watch goes on and evaluates again at the next interval"),
            1,
        );
    }
}

/// Evaluates the inventory: the events of the certificates that entered `warning` or
/// `expired` since the last evaluation.
async fn evaluate(state: Arc<AppState>, expiry: Arc<Mutex<ExpiryWatch>>) -> Vec<ExpiryEvent> {
    let inventory = inventory::collect(&state).await;
    let events = {
        // A panic in an earlier evaluation leaves the last states as they were.
        let mut expiry = expiry.lock().unwrap_or_else(PoisonError::into_inner);
        expiry
            .observe(&inventory.entries)
            .iter()
            .map(ExpiryEvent::from_transition)
            .collect()
    };
    state
        .monitor
        .last_evaluation_unix
        .store(inventory.at.unix_timestamp(), Ordering::Relaxed);
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::startup;

    /// A merged bundle for `cn` valid `days` days, self-signed.
    fn bundle(cn: &str, days: u32) -> String {
        use certfleet_pki::issue::LeafRequest;
        use certfleet_testkit::{merged_pem, self_signed, server_leaf};
        merged_pem(self_signed(&LeafRequest {
            days,
            ..server_leaf(cn)
        }))
    }

    #[tokio::test]
    async fn a_certificate_entering_warning_is_raised_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = certfleet_config::load(None, Some(dir.path())).unwrap();
        config.warn_days = 30;
        let started = startup::start(config).await.unwrap();
        let state = started.state;
        let expiry = Arc::new(Mutex::new(ExpiryWatch::new()));
        // Only the default certificate, valid for years: nothing to say.
        assert!(evaluate(Arc::clone(&state), Arc::clone(&expiry))
            .await
            .is_empty());

        state
            .domains
            .change(
                "test",
                "set-cert",
                |tree| {
                    let name = tree.add("soon.example.test", None)?;
                    tree.set_certificate(&name, &bundle("soon.example.test", 10), false)?;
                    Ok((name, ()))
                },
                |_, _, ()| (),
            )
            .await
            .unwrap();
        let events = evaluate(Arc::clone(&state), Arc::clone(&expiry)).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].domain.as_deref(), Some("soon.example.test"));
        assert_eq!(events[0].state.as_str(), "warning");
        assert!(events[0].previous_state.is_none());
        for _ in 0..3 {
            assert!(evaluate(Arc::clone(&state), Arc::clone(&expiry))
                .await
                .is_empty());
        }
        assert!(state.monitor.last_evaluation_unix.load(Ordering::Relaxed) > 0);
    }

    #[tokio::test]
    async fn the_watcher_stops_when_told_and_panics_are_raised() {
        let dir = tempfile::tempdir().unwrap();
        let config = certfleet_config::load(None, Some(dir.path())).unwrap();
        let state = startup::start(config).await.unwrap().state;
        let watcher = ExpiryWatcher::start(Arc::clone(&state));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while state.monitor.last_evaluation_unix.load(Ordering::Relaxed) == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no evaluation at start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::timeout(Duration::from_secs(2), watcher.stop())
            .await
            .expect("the watcher did not stop");

        let panicked = tokio::spawn(async { panic!("boom") }).await.unwrap_err();
        contained(&state, "a test task", &panicked);
        let recent = state.alerts.recent();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].kind, "monitor_failed");
        let cancelled = tokio::spawn(std::future::pending::<()>());
        cancelled.abort();
        contained(&state, "a cancelled task", &cancelled.await.unwrap_err());
        assert_eq!(state.alerts.recent().len(), 1);
    }
}
