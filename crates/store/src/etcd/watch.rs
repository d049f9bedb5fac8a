//! Watching a prefix on etcd: one background task per watch pumps etcd's events into
//! the caller's channel, and re-opens etcd's watch after the last revision it delivered
//! whenever the connection breaks, so an outage delays events but never loses or
//! repeats one.

use super::client::EtcdWatch;
use super::pb::etcdserverpb::{RangeRequest, WatchCreateRequest, WatchResponse};
use super::pb::mvccpb::event::EventType;
use super::{etcd_rev, rev, EtcdStore, Resend};
use crate::error::{Result, StoreError};
use crate::key::Key;
use crate::storage::{Entry, WatchEvent, WatchStream};
use std::time::Duration;
use tokio::sync::mpsc;

/// Events buffered between etcd and a slow reader.
const BUFFER: usize = 256;
/// First and longest pause between attempts to re-open a broken watch.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

impl EtcdStore {
    pub(super) async fn watch_prefix(
        &self,
        prefix: &Key,
        from: Option<u64>,
    ) -> Result<WatchStream> {
        let after = match from {
            Some(revision) => revision,
            None => self.current_revision().await?,
        };
        // The first watch is opened here so that an unreachable etcd or a compacted
        // revision is the caller's error, not a stream item.
        let opened = self.open_watch(prefix, after).await?;
        let (sender, receiver) = mpsc::channel(BUFFER);
        let store = self.clone();
        let prefix = prefix.clone();
        tokio::spawn(async move { store.pump(prefix, after, opened, sender).await });
        Ok(receiver)
    }

    /// Opens etcd's watch of `prefix` for changes after revision `after` and waits until
    /// etcd confirms it.
    async fn open_watch(&self, prefix: &Key, after: u64) -> Result<EtcdWatch> {
        let (start, end) = self.data_range(prefix);
        let compacted = self.is_compacted(&start, &end, after).await?;
        let create = WatchCreateRequest {
            key: start,
            range_end: end,
            start_revision: etcd_rev(after.saturating_add(1)),
        };
        let mut stream = self
            .call(Resend::IfLost, || self.client.watch(create.clone()))
            .await?;
        let created = self.call_once(stream.message()).await?;
        match created {
            Some(response) if response.created && !response.canceled => {}
            Some(response) => return Err(watch_refused(&response, after)),
            None => return Err(StoreError::Unavailable("etcd closed the watch".to_owned())),
        }
        if compacted {
            // etcd tells the oldest revision it keeps in the cancellation it sends next.
            let oldest = match self.call_once(stream.message()).await {
                Ok(Some(response)) => rev(response.compact_revision),
                _ => 0,
            };
            return Err(StoreError::Compacted {
                requested: after,
                oldest,
            });
        }
        Ok(stream)
    }

    /// True when the history after `after` has been compacted away: a read at revision
    /// `after + 1` fails with etcd's "compacted" error.
    async fn is_compacted(&self, start: &[u8], end: &[u8], after: u64) -> Result<bool> {
        let request = RangeRequest {
            key: start.to_vec(),
            range_end: end.to_vec(),
            limit: 0,
            revision: etcd_rev(after.saturating_add(1)),
            count_only: true,
        };
        let attempt = || self.client.range(request.clone());
        match self.call(Resend::IfLost, attempt).await {
            Ok(_) => Ok(false),
            Err(StoreError::Unavailable(message)) if message.contains("compacted") => Ok(true),
            // A revision after the current one is a future revision: nothing to lose.
            Err(StoreError::Unavailable(message)) if message.contains("future revision") => {
                Ok(false)
            }
            Err(other) => Err(other),
        }
    }

    /// Forwards events until the reader goes away or history is compacted.
    async fn pump(
        self,
        prefix: Key,
        mut last: u64,
        opened: EtcdWatch,
        sender: mpsc::Sender<Result<WatchEvent>>,
    ) {
        let mut stream = Some(opened);
        let mut pause = RETRY_FIRST;
        loop {
            let mut current = match stream.take() {
                Some(current) => current,
                None => {
                    tokio::select! {
                        _ = sender.closed() => return,
                        _ = tokio::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(RETRY_MAX);
                    match self.open_watch(&prefix, last).await {
                        Ok(reopened) => reopened,
                        Err(err @ StoreError::Compacted { .. }) => {
                            let _ = sender.send(Err(err)).await;
                            return;
                        }
                        Err(_) => continue,
                    }
                }
            };
            loop {
                let message = tokio::select! {
                    _ = sender.closed() => return,
                    message = current.message() => message,
                };
                let response = match message {
                    Ok(Some(response)) => response,
                    // Broken connection or stream: re-open after `last`.
                    Ok(None) | Err(_) => break,
                };
                pause = RETRY_FIRST;
                if response.compact_revision > 0 {
                    let err = StoreError::Compacted {
                        requested: last,
                        oldest: rev(response.compact_revision),
                    };
                    let _ = sender.send(Err(err)).await;
                    return;
                }
                if response.canceled {
                    break;
                }
                for event in self.events(&prefix, &response) {
                    if let Ok(change) = &event {
                        last = last.max(change.revision());
                    }
                    if sender.send(event).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// The changes in one etcd watch response that fall under `prefix`.
    fn events(&self, prefix: &Key, response: &WatchResponse) -> Vec<Result<WatchEvent>> {
        let mut events = Vec::new();
        for event in &response.events {
            let Some(kv) = &event.kv else { continue };
            let key = match self.key_of(&kv.key, prefix) {
                Ok(Some(key)) => key,
                Ok(None) => continue,
                Err(err) => {
                    events.push(Err(err));
                    continue;
                }
            };
            let revision = rev(kv.mod_revision);
            events.push(Ok(match event.r#type() {
                EventType::Put => WatchEvent::Put(Entry {
                    key,
                    value: kv.value.clone(),
                    revision,
                }),
                EventType::Delete => WatchEvent::Delete { key, revision },
            }));
        }
        events
    }
}

/// The error for a watch etcd refused to create.
fn watch_refused(response: &WatchResponse, after: u64) -> StoreError {
    if response.compact_revision > 0 {
        return StoreError::Compacted {
            requested: after,
            oldest: rev(response.compact_revision),
        };
    }
    StoreError::Unavailable(format!(
        "etcd refused the watch: {}",
        response.cancel_reason
    ))
}
