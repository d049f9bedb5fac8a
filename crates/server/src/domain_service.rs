//! The one place the domain tree changes: every edit (the admin API, the web UI, ACME
//! issuance) and every re-read from the store (cluster sync) goes through
//! [`DomainService`].
//!
//! A change takes the tree lock, edits a copy, saves the changed domain's record with its
//! audit entry (whose detail, when the domain's own certificate changed, is
//! [`certificate_change`]: `certificate sha1 OLD -> NEW`), swaps the copy into the certificate hub the handshakes read, and only
//! then makes it the tree; a failure at any step leaves both the store and what is served
//! as they were. Readers take the same lock for a consistent view; handshakes never do
//! (they read the hub's snapshot).
//!
//! Deleting a branch and moving a domain are in `lifecycle` ([`DomainService::delete_branch`],
//! [`DomainService::move_branch`]).

use certfleet_edge::hub::CertificateHub;
use certfleet_edge::repository::DomainRepository;
use certfleet_edge::tree::records::DomainRecord;
use certfleet_edge::tree::{DomainTree, StoredChange};
use certfleet_edge::EdgeError;
use certfleet_store::WatchEvent;
use std::sync::Arc;
use tokio::sync::Mutex;

mod lifecycle;
pub use lifecycle::{AcmeLeftovers, Deleted};

/// Why a domain change or read did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The tree refused the edit (a bad name or certificate, a conflict, an unknown
    /// domain).
    #[error(transparent)]
    Edge(#[from] EdgeError),
    /// A request's field is wrong; the message starts with the field's name.
    #[error("{0}")]
    Invalid(String),
    /// No domain has that name.
    #[error("no domain is named {0}")]
    NotFound(String),
    /// The store failed, or the hub refused the changed tree.
    #[error("{0}")]
    Storage(String),
}

/// Whether a re-read from the store changed what this node serves.
#[derive(Debug, PartialEq, Eq)]
pub enum Reloaded {
    /// The stored tree differed and is now served.
    Changed,
    /// The stored tree is the one already served.
    Unchanged,
}

/// The domain tree, its persistence and the hub it is served from.
pub struct DomainService {
    tree: Mutex<DomainTree>,
    repository: DomainRepository,
    hub: Arc<CertificateHub>,
    /// A store revision at or before the read of the tree at start-up: the domain sync
    /// watches from there instead of reading the tree a second time.
    loaded_at: u64,
}

impl DomainService {
    /// Loads the tree from `repository` and serves it through `hub`.
    pub async fn load(
        repository: DomainRepository,
        hub: Arc<CertificateHub>,
    ) -> Result<Self, DomainError> {
        let (tree, loaded_at) = repository.load_with_revision().await.map_err(|err| {
            DomainError::Storage(format!("loading the domain tree from the store: {err}"))
        })?;
        hub.set_tree(&tree).map_err(|err| {
            DomainError::Storage(format!(
                "building the SNI index from the stored domain tree: {err}"
            ))
        })?;
        Ok(DomainService {
            tree: Mutex::new(tree),
            repository,
            hub,
            loaded_at,
        })
    }

    /// A store revision at or before the read of the tree this service was loaded with:
    /// every change to the stored domains after it is yet to be applied (or was already
    /// in the tree read, and changes nothing).
    pub fn loaded_at(&self) -> u64 {
        self.loaded_at
    }

    /// Runs `read` on the current tree (no change is half-seen).
    pub async fn read<R>(&self, read: impl FnOnce(&DomainTree) -> R) -> R {
        read(&*self.tree.lock().await)
    }

    /// Changes one domain: `edit` works on a copy of the tree and returns the changed
    /// domain's name with a result; the record is saved (audited as `actor` doing
    /// `action`), the copy is served and becomes the tree; `view` then runs on it with
    /// the name and result, under the same lock.
    pub async fn change<R, T>(
        &self,
        actor: &str,
        action: &str,
        edit: impl FnOnce(&mut DomainTree) -> Result<(String, R), DomainError>,
        view: impl FnOnce(&DomainTree, &str, R) -> T,
    ) -> Result<T, DomainError> {
        let mut tree = self.tree.lock().await;
        // The tree itself is edited, journaled: a failure at any step puts it back.
        tree.begin();
        let outcome = self.persist_and_serve(&mut tree, actor, action, edit).await;
        let (name, result) = match outcome {
            Ok(done) => done,
            Err(err) => {
                tree.rollback();
                return Err(err);
            }
        };
        Ok(view(&tree, &name, result))
    }

    /// [`DomainService::change`]'s steps on the journaled tree: the edit, the record
    /// saved, the snapshot patched for what the edit touched, the journal committed.
    async fn persist_and_serve<R>(
        &self,
        tree: &mut DomainTree,
        actor: &str,
        action: &str,
        edit: impl FnOnce(&mut DomainTree) -> Result<(String, R), DomainError>,
    ) -> Result<(String, R), DomainError> {
        let (name, result) = edit(tree)?;
        let record = tree
            .get(&name)
            .map(|domain| domain.to_record())
            .ok_or_else(|| {
                DomainError::Storage(format!("{name} vanished from the changed tree"))
            })?;
        let old = tree
            .before_changes(&name)
            .and_then(|d| d.certificate())
            .map(|c| c.served().summary().sha1_thumbprint.clone());
        let detail = certificate_change(old, thumbprint(tree, &name));
        self.repository
            .save_audited(&record, actor, action, detail.as_deref())
            .await
            .map_err(|err| DomainError::Storage(format!("saving domain {name}: {err}")))?;
        let applied = tree.touched();
        self.hub.apply_changes(tree, &applied).map_err(|err| {
            DomainError::Storage(format!("indexing the tree after {action}: {err}"))
        })?;
        tree.commit();
        Ok((name, result))
    }

    /// Re-reads the whole tree from the store and serves it if it differs (a change
    /// made through another node). Holding the lock keeps it from racing a local change.
    pub async fn reload_from_store(&self) -> Result<Reloaded, DomainError> {
        let mut tree = self.tree.lock().await;
        self.reload_locked(&mut tree).await
    }

    /// [`DomainService::reload_from_store`] with the lock already held.
    async fn reload_locked(&self, tree: &mut DomainTree) -> Result<Reloaded, DomainError> {
        let stored = self.repository.load().await.map_err(|err| {
            DomainError::Storage(format!("reading the domains from the store: {err}"))
        })?;
        if sorted_records(tree) == sorted_records(&stored) {
            return Ok(Reloaded::Unchanged);
        }
        self.hub.set_tree(&stored).map_err(|err| {
            DomainError::Storage(format!("serving the domains read from the store: {err}"))
        })?;
        *tree = stored;
        Ok(Reloaded::Changed)
    }

    /// Applies changes seen through the store's watch (another node's writes, or this
    /// node's own coming back, which change nothing) to the tree in place and patches
    /// what is served for the changed domains and their branches only. A change that
    /// cannot be applied (a record that does not decode, or breaks a rule of the tree)
    /// is an error naming it: the caller then re-reads the whole tree.
    pub async fn apply_from_store(&self, events: &[WatchEvent]) -> Result<Reloaded, DomainError> {
        let mut changes = Vec::with_capacity(events.len());
        for event in events {
            changes.push(match event {
                WatchEvent::Put(entry) => StoredChange::Put(
                    self.repository
                        .decode(&entry.key, &entry.value)
                        .map_err(|err| DomainError::Storage(err.to_string()))?,
                ),
                WatchEvent::Delete { key, .. } => StoredChange::Delete(key.name().to_owned()),
            });
        }
        let mut tree = self.tree.lock().await;
        let applied = tree.apply_stored(changes)?;
        if applied.changed.is_empty() && applied.removed.is_empty() {
            return Ok(if applied.is_empty() {
                Reloaded::Unchanged
            } else {
                Reloaded::Changed
            });
        }
        self.hub.apply_changes(&tree, &applied).map_err(|err| {
            DomainError::Storage(format!("serving the domains changed in the store: {err}"))
        })?;
        Ok(Reloaded::Changed)
    }

    /// Whether any of `names` is stored otherwise than this node serves it (a change
    /// this node made itself, coming back through the store's watch, is not).
    pub async fn differs_from_store(&self, names: &[String]) -> Result<bool, DomainError> {
        let tree = self.tree.lock().await;
        for name in names {
            let stored = self.repository.get(name).await.map_err(|err| {
                DomainError::Storage(format!("reading domain {name} from the store: {err}"))
            })?;
            if stored != tree.get(name).map(|domain| domain.to_record()) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The SHA-1 thumbprint of domain `name`'s own certificate in `tree`, if it has one.
fn thumbprint(tree: &DomainTree, name: &str) -> Option<String> {
    tree.get(name)?
        .certificate()
        .map(|c| c.served().summary().sha1_thumbprint.clone())
}

/// The audit detail of a change of a domain's own certificate, old to new:
/// `certificate sha1 OLD -> NEW`, `none` for no certificate; `None` when it is the same.
pub fn certificate_change(old: Option<String>, new: Option<String>) -> Option<String> {
    if old == new {
        return None;
    }
    let name = |t: Option<String>| t.unwrap_or_else(|| "none".to_owned());
    Some(format!(
        "{CERTIFICATE_CHANGE}{} -> {}",
        name(old),
        name(new)
    ))
}

/// How the audit detail of a certificate change begins.
pub const CERTIFICATE_CHANGE: &str = "certificate sha1 ";

/// Every record of `tree`, by name.
fn sorted_records(tree: &DomainTree) -> Vec<DomainRecord> {
    let mut all: Vec<_> = tree.iter().map(|domain| domain.to_record()).collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use certfleet_edge::certificate::ServedCertificate;
    use certfleet_secrets::MasterKey;
    use certfleet_store::memory::MemoryStore;
    use certfleet_store::Storage;
    use certfleet_testkit::bundle_pem;

    /// A service over an empty in-memory store, and a second repository on the same
    /// store standing for another node of a cluster.
    async fn service() -> (DomainService, DomainRepository, Arc<CertificateHub>) {
        let store: Arc<dyn Storage> = Arc::new(MemoryStore::new());
        let key = Arc::new(MasterKey::generate().unwrap());
        let default = ServedCertificate::from_pem(&bundle_pem(&["localhost"])).unwrap();
        let hub = Arc::new(CertificateHub::new(default));
        let repository = DomainRepository::new(Arc::clone(&store), Arc::clone(&key));
        let other = DomainRepository::new(store, key);
        let service = DomainService::load(repository, Arc::clone(&hub))
            .await
            .unwrap();
        (service, other, hub)
    }

    #[tokio::test]
    async fn a_change_is_stored_served_and_seen_by_readers() {
        let (service, other, hub) = service().await;
        let thumbprint = service
            .change(
                "test",
                "domain.set-cert",
                |tree| {
                    let name = tree.add("example.test", None)?;
                    let report =
                        tree.set_certificate(&name, &bundle_pem(&["example.test"]), false)?;
                    Ok((name, report.summary.sha1_thumbprint))
                },
                |_, _, thumbprint| thumbprint,
            )
            .await
            .unwrap();
        // Stored: another node's repository reads it.
        assert!(other.get("example.test").await.unwrap().is_some());
        // Served: the hub resolves the name to that certificate.
        let resolution = hub.resolve(Some("example.test"), "default");
        assert_eq!(resolution.domain.as_deref(), Some("example.test"));
        assert_eq!(resolution.sha1_thumbprint, thumbprint);
        // Read back through the service.
        let names = service
            .read(|tree| tree.iter().map(|d| d.name().to_owned()).collect::<Vec<_>>())
            .await;
        assert_eq!(names, ["example.test"]);
    }

    #[tokio::test]
    async fn a_refused_edit_leaves_store_hub_and_tree_as_they_were() {
        let (service, other, hub) = service().await;
        let err = service
            .change(
                "test",
                "domain.set-cert",
                |tree| {
                    let name = tree.add("example.test", None)?;
                    tree.set_certificate(&name, "not a bundle", false)?;
                    Ok((name, ()))
                },
                |_, _, ()| (),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Edge(_)), "{err:?}");
        assert!(other.get("example.test").await.unwrap().is_none());
        assert_eq!(service.read(|tree| tree.iter().count()).await, 0);
        assert_eq!(hub.resolve(Some("example.test"), "default").domain, None);
    }

    #[tokio::test]
    async fn another_nodes_change_is_served_after_a_reload_and_only_then() {
        let (service, other, hub) = service().await;
        // Another node adds a domain with a certificate: its record lands in the store.
        let mut theirs = DomainTree::new();
        let name = theirs.add("cluster.test", None).unwrap();
        theirs
            .set_certificate(&name, &bundle_pem(&["cluster.test"]), false)
            .unwrap();
        let record = theirs.get(&name).unwrap().to_record();
        other.save(&record, "node-b", "domain.add").await.unwrap();

        let names = ["cluster.test".to_owned()];
        assert!(service.differs_from_store(&names).await.unwrap());
        assert_eq!(hub.resolve(Some("cluster.test"), "default").domain, None);
        assert_eq!(
            service.reload_from_store().await.unwrap(),
            Reloaded::Changed
        );
        assert_eq!(
            hub.resolve(Some("cluster.test"), "default")
                .domain
                .as_deref(),
            Some("cluster.test")
        );
        assert!(!service.differs_from_store(&names).await.unwrap());
        assert_eq!(
            service.reload_from_store().await.unwrap(),
            Reloaded::Unchanged
        );
    }
}
