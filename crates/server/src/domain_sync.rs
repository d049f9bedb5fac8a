//! Keeps this node's domains in step with the store: every node of a cluster
//! shares the store (etcd), and a domain added or changed through any node's API is
//! served by every node within about a second.
//!
//! The task watches the store's `domains/` prefix from the revision it last saw, at
//! first the one start-up took just before reading the tree (so the tree is read once,
//! not again when the task starts). A change (and any others already waiting, taken
//! together) is applied by the domain
//! service ([`crate::domain_service`], under its tree lock, so it never races a local
//! change) to the tree in place, and the SNI snapshot is patched for the changed domains
//! and their branches only; this node's own writes coming back change nothing. A change
//! that cannot be applied that way (a record that does not decode, or breaks the tree's
//! rules) is logged at info and followed by a re-read of the whole tree. When the store is unreachable the task logs it once per outage and
//! retries with a growing pause, resuming the watch from the last revision it applied,
//! so no change is missed; a revision the store no longer keeps (compacted) means a full
//! re-read and a watch from there.

pub use super::domain_service::Reloaded;
use super::state::AppState;
use certfleet_store::{keys, Key, StoreError, WatchEvent};
use std::sync::Arc;
use std::time::Duration;

/// The first pause after a failure; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest pause between attempts while the store is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Re-reads the tree from the store and serves it if it differs.
pub async fn reload(state: &AppState) -> Result<Reloaded, String> {
    state
        .domains
        .reload_from_store()
        .await
        .map_err(|err| err.to_string())
}

/// Watches the store until the task is aborted.
pub async fn run(state: Arc<AppState>) {
    let prefix = match keys::domains() {
        Ok(prefix) => prefix,
        Err(err) => {
            tracing::error!("domain sync: cannot watch the domains: {err}");
            return;
        }
    };
    let mut backoff = FIRST_BACKOFF;
    let mut failing = false;
    // The tree was read at start-up: watch from the revision of that read. None (after a
    // compaction or a change that could not be applied): re-read everything first, then
    // watch from the revision read.
    let mut from: Option<u64> = Some(state.domains.loaded_at());
    loop {
        let result = match from {
            None => resync(&state).await.map(|revision| from = Some(revision)),
            Some(revision) => follow(&state, &prefix, revision, &mut from).await,
        };
        match result {
            Ok(()) => {
                if failing {
                    tracing::info!("domain sync: the store answers again; watching for changes");
                }
                failing = false;
                backoff = FIRST_BACKOFF;
            }
            Err(Failure::Compacted) => from = None,
            Err(Failure::Unapplied(why)) => {
                tracing::info!(
                    "domain sync: the changes {why} could not be applied one by one; re-reading the whole tree"
                );
                from = None;
            }
            Err(Failure::Store(message)) => {
                if !failing {
                    tracing::warn!("domain sync: {message}; retrying until the store answers");
                }
                failing = true;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

enum Failure {
    /// The revision to resume from is gone: re-read.
    Compacted,
    /// The store failed; retry later.
    Store(String),
    /// Changes seen could not be applied to the tree as it is (a record that does not
    /// decode, or one that breaks the tree's rules): re-read everything.
    Unapplied(String),
}

/// Re-reads the tree and answers the store's revision at (or before) the read.
async fn resync(state: &AppState) -> Result<u64, Failure> {
    let revision = state
        .store
        .revision()
        .await
        .map_err(|err| Failure::Store(format!("asking the store's revision: {err}")))?;
    if reload(state).await.map_err(Failure::Store)? == Reloaded::Changed {
        tracing::info!("domain sync: re-read the domains from the store (revision {revision})");
    }
    Ok(revision)
}

/// Follows the watch from `revision`, applying each batch of changes to the tree and to
/// what is served (the changed domains and their branches only), and recording the
/// last revision applied in `from`. Returns when the watch ends.
async fn follow(
    state: &AppState,
    prefix: &Key,
    revision: u64,
    from: &mut Option<u64>,
) -> Result<(), Failure> {
    let mut events = state
        .store
        .watch(prefix, Some(revision))
        .await
        .map_err(|err| classify(&err, "watching the domains"))?;
    while let Some(first) = events.recv().await {
        let mut batch = vec![first.map_err(|err| classify(&err, "watching the domains"))?];
        // Take every change already waiting, then apply them together.
        while let Ok(next) = events.try_recv() {
            batch.push(next.map_err(|err| classify(&err, "watching the domains"))?);
        }
        let Some(revision) = batch.last().map(WatchEvent::revision) else {
            continue;
        };
        state
            .domains
            .apply_from_store(&batch)
            .await
            .map_err(|err| Failure::Unapplied(format!("up to revision {revision}: {err}")))?;
        *from = Some(revision);
    }
    Err(Failure::Store("the store ended the watch".into()))
}

fn classify(err: &StoreError, doing: &str) -> Failure {
    match err {
        StoreError::Compacted { .. } => Failure::Compacted,
        other => Failure::Store(format!("{doing}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::startup;
    use certfleet_edge::tree::records::DomainRecord;

    #[tokio::test]
    async fn a_record_written_to_the_store_by_another_node_is_served_here() {
        let dir = tempfile::tempdir().unwrap();
        let config = certfleet_config::load(None, Some(dir.path())).unwrap();
        let state = startup::start(config).await.unwrap().state;
        let task = tokio::spawn(run(Arc::clone(&state)));

        // Another node: the same store and master key, its own repository.
        let other = certfleet_edge::repository::DomainRepository::new(
            Arc::clone(&state.store),
            Arc::clone(&state.master_key),
        );
        let record = DomainRecord {
            name: "cluster.example.test".into(),
            ..DomainRecord::default()
        };
        other.save(&record, "node-b", "domain.add").await.unwrap();

        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if state
                .domains
                .read(|tree| tree.get("cluster.example.test").is_some())
                .await
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the change never reached this node"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Re-reading again finds nothing new: this node's tree is the store's.
        assert_eq!(reload(&state).await.unwrap(), Reloaded::Unchanged);

        // A deletion on the other node removes it here too.
        assert!(other
            .delete("cluster.example.test", "node-b")
            .await
            .unwrap());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while state
            .domains
            .read(|tree| tree.get("cluster.example.test").is_some())
            .await
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the deletion never reached this node"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        task.abort();
    }
}
