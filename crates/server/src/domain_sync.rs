//! Keeps this node's domains in step with the store: every node of a cluster
//! shares the store (etcd), and a domain added or changed through any node's API is
//! served by every node within about a second.
//!
//! The task watches the store's `domains/` prefix from the revision it last saw. After a
//! change (and any others already waiting, taken together) it reads the changed records;
//! when they are what this node already serves (its own write coming back) nothing more
//! happens. Otherwise it re-reads the whole tree through the domain service
//! ([`crate::domain_service`]), so it never races a local change. A tree that differs is swapped into the certificate hub and becomes
//! the tree. When the store is unreachable the task logs it once per outage and
//! retries with a growing pause, resuming the watch from the last revision it applied,
//! so no change is missed; a revision the store no longer keeps (compacted) means a full
//! re-read and a watch from there.

pub use super::domain_service::Reloaded;
use super::state::AppState;
use certfleet_store::{keys, Key, StoreError};
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
    // None: re-read everything first, then watch from the revision read.
    let mut from: Option<u64> = None;
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

/// Follows the watch from `revision`, re-reading after each batch of changes and
/// recording the last revision applied in `from`. Returns when the watch ends.
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
        let mut last = first.map_err(|err| classify(&err, "watching the domains"))?;
        let mut names = vec![last.key().name().to_owned()];
        // Take every change already waiting, then re-read once.
        while let Ok(next) = events.try_recv() {
            last = next.map_err(|err| classify(&err, "watching the domains"))?;
            names.push(last.key().name().to_owned());
        }
        if !differs(state, &names).await.map_err(Failure::Store)? {
            *from = Some(last.revision());
            continue;
        }
        if reload(state).await.map_err(Failure::Store)? == Reloaded::Changed {
            tracing::info!(
                "domain sync: serving the domains as changed in the store (revision {})",
                last.revision()
            );
        }
        *from = Some(last.revision());
    }
    Err(Failure::Store("the store ended the watch".into()))
}

/// Whether any of the domains `names` is stored otherwise than this node serves it. A
/// change this node made itself comes back through the watch, and this keeps it from
/// costing a re-read of the whole tree.
async fn differs(state: &AppState, names: &[String]) -> Result<bool, String> {
    state
        .domains
        .differs_from_store(names)
        .await
        .map_err(|err| err.to_string())
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
