//! The domain tree in the store: one record per domain under `domains/NAME`, the merged
//! PEM (which holds the private key) sealed with the master key, and every change
//! written to the audit log.
//!
//! The stored form differs from [`DomainRecord`] in one field: `certificate_sealed`
//! holds the `CRYPT:` value of the PEM, so neither the store files nor etcd ever see the
//! key in clear.

use crate::error::{EdgeError, Result};
use crate::tree::records::DomainRecord;
use crate::tree::DomainTree;
use certfleet_secrets::MasterKey;
use certfleet_store::{audit, keys, Key, Storage, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The key prefix of domain records.
pub const DOMAINS_PREFIX: &str = keys::DOMAINS;

#[derive(Serialize, Deserialize)]
struct StoredDomain {
    name: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    certificate_sealed: Option<String>,
    #[serde(default)]
    acme_enabled: bool,
    #[serde(default)]
    acme_account_email: Option<String>,
}

/// Reads and writes the domain tree.
#[derive(Clone)]
pub struct DomainRepository {
    store: Arc<dyn Storage>,
    master_key: Arc<MasterKey>,
}

impl DomainRepository {
    /// A repository over `store`, sealing with `master_key`.
    pub fn new(store: Arc<dyn Storage>, master_key: Arc<MasterKey>) -> Self {
        DomainRepository { store, master_key }
    }

    fn key_of(name: &str) -> Result<Key> {
        Ok(keys::domain(name)?)
    }

    /// The whole tree as stored (empty when no domain exists yet).
    pub async fn load(&self) -> Result<DomainTree> {
        let prefix = keys::domains()?;
        let mut records = Vec::new();
        for entry in self.store.list(&prefix).await? {
            records.push(self.decode(&entry.key, &entry.value)?);
        }
        DomainTree::from_records(records)
    }

    /// The whole tree as stored, with a store revision at or before the read: a watch of
    /// the domains from that revision misses no change made after the read (and may
    /// repeat a few already in the tree).
    pub async fn load_with_revision(&self) -> Result<(DomainTree, u64)> {
        let revision = self.store.revision().await?;
        Ok((self.load().await?, revision))
    }

    /// One domain's record as stored, or `None` when the store has none of that name.
    pub async fn get(&self, name: &str) -> Result<Option<DomainRecord>> {
        let key = Self::key_of(name)?;
        match self.store.get(&key).await? {
            Some(entry) => Ok(Some(self.decode(&key, &entry.value)?)),
            None => Ok(None),
        }
    }

    /// A stored record (as listed, read or seen through a watch), its PEM opened.
    pub fn decode(&self, key: &Key, value: &[u8]) -> Result<DomainRecord> {
        let stored: StoredDomain = serde_json::from_slice(value).map_err(|e| {
            EdgeError::Tree(format!("stored domain record {key} does not decode: {e}"))
        })?;
        let certificate_pem = match &stored.certificate_sealed {
            Some(sealed) => {
                let plain = self.master_key.open(sealed).map_err(StoreError::from)?;
                let text = String::from_utf8(plain.to_vec()).map_err(|_| {
                    EdgeError::Certificate(format!(
                        "the stored certificate of {} is not text",
                        stored.name
                    ))
                })?;
                Some(text)
            }
            None => None,
        };
        Ok(DomainRecord {
            name: stored.name,
            parent: stored.parent,
            certificate_pem,
            acme_enabled: stored.acme_enabled,
            acme_account_email: stored.acme_account_email,
        })
    }

    /// Writes one domain's record (sealing its PEM) and audits the change as `action` by
    /// `actor`.
    pub async fn save(&self, record: &DomainRecord, actor: &str, action: &str) -> Result<()> {
        self.save_audited(record, actor, action, None).await
    }

    /// As [`DomainRepository::save`], with words about the change in the audit record
    /// (`detail`: names, never a secret).
    pub async fn save_audited(
        &self,
        record: &DomainRecord,
        actor: &str,
        action: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        let certificate_sealed = match &record.certificate_pem {
            Some(pem) => Some(
                self.master_key
                    .seal(pem.as_bytes())
                    .map_err(StoreError::from)?,
            ),
            None => None,
        };
        let stored = StoredDomain {
            name: record.name.clone(),
            parent: record.parent.clone(),
            certificate_sealed,
            acme_enabled: record.acme_enabled,
            acme_account_email: record.acme_account_email.clone(),
        };
        let bytes = Zeroizing::new(
            serde_json::to_vec(&stored).map_err(|e| EdgeError::Tree(e.to_string()))?,
        );
        self.store.put(&Self::key_of(&record.name)?, &bytes).await?;
        let object = format!("domain {}", record.name);
        audit::record(self.store.as_ref(), actor, action, &object, detail).await?;
        Ok(())
    }

    /// Removes a domain's record and audits it; `false` when there was none.
    pub async fn delete(&self, name: &str, actor: &str) -> Result<bool> {
        self.delete_audited(name, actor, None).await
    }

    /// As [`DomainRepository::delete`], with words about the deletion in the audit
    /// record (`detail`: names, never a secret).
    pub async fn delete_audited(
        &self,
        name: &str,
        actor: &str,
        detail: Option<&str>,
    ) -> Result<bool> {
        let existed = self.store.delete(&Self::key_of(name)?).await?;
        if existed {
            let object = format!("domain {name}");
            audit::record(self.store.as_ref(), actor, "domain.delete", &object, detail).await?;
        }
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_store::memory::MemoryStore;

    #[tokio::test]
    async fn a_tree_survives_the_store_with_its_keys_sealed_and_changes_audited() {
        let store = MemoryStore::new();
        let key = Arc::new(MasterKey::generate().unwrap());
        let repository = DomainRepository::new(Arc::new(store.clone()), key.clone());
        let mut tree = DomainTree::new();
        tree.add("example.test", None).unwrap();
        tree.add("shop.example.test", None).unwrap();
        let pem = certfleet_testkit::bundle_pem(&["shop.example.test"]);
        tree.set_certificate("shop.example.test", &pem, false)
            .unwrap();
        for record in tree.to_records() {
            repository
                .save(&record, "test", "domain.add")
                .await
                .unwrap();
        }

        let raw = store.list(&keys::domains().unwrap()).await.unwrap();
        assert_eq!(raw.len(), 2);
        for entry in &raw {
            let text = String::from_utf8_lossy(&entry.value);
            assert!(!text.contains("PRIVATE KEY"), "{text}");
        }

        let again = repository.load().await.unwrap();
        assert_eq!(again.to_records(), tree.to_records());
        assert_eq!(audit::list(&store).await.unwrap().len(), 2);

        let stranger = DomainRepository::new(
            Arc::new(store.clone()),
            Arc::new(MasterKey::generate().unwrap()),
        );
        assert!(
            stranger.load().await.is_err(),
            "another master key must not open the keys"
        );

        assert!(repository.delete("shop.example.test", "test").await.is_ok());
        assert_eq!(repository.load().await.unwrap().to_records().len(), 1);
    }
}
