//! CAs in the store: one record per CA under `cas/NAME` holding its certificates as PEM
//! and its keys sealed with the master key (`CRYPT:` values), so neither the store files
//! nor etcd ever see a CA key in clear. Every change is written to the audit log (who,
//! what, when; never a key).

use super::name;
use super::record::{CaInfo, CaPolicy};
use certfleet_pki::authority::{Authority, NewCa};
use certfleet_pki::certs::{parse_single_certificate, to_pem};
use certfleet_pki::keys::PrivateKey;
use certfleet_secrets::MasterKey;
use certfleet_store::{audit, keys, CasOutcome, Expect, Key, Storage};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The key prefix of CA records.
pub const CAS_PREFIX: &str = keys::CAS;

/// Why a CA operation failed. The messages never hold key material.
#[derive(Debug)]
pub enum CaError {
    /// The name is not a CA name (the message names the field).
    BadName(String),
    /// A CA of that name exists already.
    Exists(String),
    /// The store, the master key or a stored record failed.
    Store(String),
    /// The CA is one the server keeps for itself and issues nothing it is asked for.
    Reserved(String),
}

/// The agents CA's name among the server's CAs: it issues the agents' identities and
/// the agent listener's certificate, and nothing an administrator asks for.
pub const AGENTS_CA: &str = "certfleet-agents";

/// Whether `name` is a CA the server keeps for itself ([`AGENTS_CA`]).
pub fn is_reserved(name: &str) -> bool {
    name == AGENTS_CA
}

impl fmt::Display for CaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaError::BadName(message) | CaError::Store(message) => f.write_str(message),
            CaError::Exists(name) => write!(f, "name: a CA named {name} exists already"),
            CaError::Reserved(name) => write!(
                f,
                "ca: {name} is the server's own CA for agent identities; it issues nothing else"
            ),
        }
    }
}

impl std::error::Error for CaError {}

fn store_error(context: &str) -> impl Fn(&dyn fmt::Display) -> CaError + '_ {
    move |err| CaError::Store(format!("{context}: {err}"))
}

#[derive(Serialize, Deserialize)]
struct StoredCa {
    name: String,
    root_pem: String,
    root_key_sealed: String,
    #[serde(default)]
    intermediate_pem: Option<String>,
    #[serde(default)]
    intermediate_key_sealed: Option<String>,
    key_algorithm: String,
    #[serde(default)]
    policy: CaPolicy,
    created_at: String,
}

/// Reads and writes CAs.
#[derive(Clone)]
pub struct CaRepository {
    store: Arc<dyn Storage>,
    master_key: Arc<MasterKey>,
}

impl CaRepository {
    /// A repository over `store`, sealing with `master_key`.
    pub fn new(store: Arc<dyn Storage>, master_key: Arc<MasterKey>) -> Self {
        CaRepository { store, master_key }
    }

    fn key_of(ca: &str) -> Result<Key, CaError> {
        name::validate(ca).map_err(CaError::BadName)?;
        keys::ca(ca).map_err(|e| store_error("CA key")(&e))
    }

    fn seal(&self, key: &PrivateKey) -> Result<String, CaError> {
        self.master_key
            .seal(key.pkcs8_der())
            .map_err(|e| store_error("sealing a CA key")(&e))
    }

    fn open(&self, sealed: &str, ca: &str) -> Result<PrivateKey, CaError> {
        let der = self
            .master_key
            .open(sealed)
            .map_err(|e| store_error(&format!("opening the key of CA {ca}"))(&e))?;
        PrivateKey::from_bytes(&der)
            .map_err(|e| store_error(&format!("the stored key of CA {ca}"))(&e))
    }

    /// Stores a new CA made by `init_ca` as `ca` and audits it as `actor`; refuses an
    /// existing name.
    pub async fn create(
        &self,
        ca: &str,
        made: &NewCa,
        policy: CaPolicy,
        actor: &str,
    ) -> Result<CaInfo, CaError> {
        let key = Self::key_of(ca)?;
        let (intermediate_pem, intermediate_key_sealed) = match &made.intermediate {
            Some((cert, key)) => (
                Some(to_pem(std::slice::from_ref(cert))),
                Some(self.seal(key)?),
            ),
            None => (None, None),
        };
        let created_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| store_error("the clock")(&e))?;
        let stored = StoredCa {
            name: ca.to_owned(),
            root_pem: to_pem(std::slice::from_ref(&made.root_cert)),
            root_key_sealed: self.seal(&made.root_key)?,
            intermediate_pem,
            intermediate_key_sealed,
            key_algorithm: made.root_key.algorithm().name().to_owned(),
            policy,
            created_at,
        };
        let bytes = Zeroizing::new(
            serde_json::to_vec(&stored).map_err(|e| store_error("encoding a CA")(&e))?,
        );
        let outcome = self
            .store
            .compare_and_swap(&key, Expect::Absent, &bytes)
            .await
            .map_err(|e| store_error("storing a CA")(&e))?;
        if !matches!(outcome, CasOutcome::Swapped(_)) {
            return Err(CaError::Exists(ca.to_owned()));
        }
        let detail = format!("key {}", stored.key_algorithm);
        audit::record(
            self.store.as_ref(),
            actor,
            "ca.create",
            &format!("ca {ca}"),
            Some(&detail),
        )
        .await
        .map_err(|e| store_error("auditing a CA")(&e))?;
        info_of(&stored)
    }

    /// Every CA, ordered by name.
    pub async fn list(&self) -> Result<Vec<CaInfo>, CaError> {
        let prefix = keys::cas().map_err(|e| store_error("CA key")(&e))?;
        let entries = self
            .store
            .list(&prefix)
            .await
            .map_err(|e| store_error("listing CAs")(&e))?;
        entries
            .iter()
            .map(|entry| decode(&entry.value).and_then(|stored| info_of(&stored)))
            .collect()
    }

    async fn stored(&self, ca: &str) -> Result<Option<StoredCa>, CaError> {
        let key = Self::key_of(ca)?;
        let entry = self
            .store
            .get(&key)
            .await
            .map_err(|e| store_error(&format!("reading CA {ca}"))(&e))?;
        entry.map(|entry| decode(&entry.value)).transpose()
    }

    /// The CA named `ca`, or `None`.
    pub async fn get(&self, ca: &str) -> Result<Option<CaInfo>, CaError> {
        self.stored(ca).await?.map(|s| info_of(&s)).transpose()
    }

    /// The CA named `ca` able to sign for an administrator (its keys opened), or `None`;
    /// a reserved CA is refused. Signing is done by the intermediate when the CA has one,
    /// else by the root.
    pub async fn issuing_authority(
        &self,
        ca: &str,
    ) -> Result<Option<(CaInfo, Authority)>, CaError> {
        if is_reserved(ca) {
            return Err(CaError::Reserved(ca.to_owned()));
        }
        self.authority(ca).await
    }

    /// The CA named `ca` with its key unsealed, or `None`; any CA, the reserved ones too
    /// (for the server's own use).
    pub async fn authority(&self, ca: &str) -> Result<Option<(CaInfo, Authority)>, CaError> {
        let Some(stored) = self.stored(ca).await? else {
            return Ok(None);
        };
        let info = info_of(&stored)?;
        let broken = |e: &dyn fmt::Display| CaError::Store(format!("CA {ca}: {e}"));
        let authority = match (&info.intermediate, &stored.intermediate_key_sealed) {
            (Some(cert), Some(sealed)) => Authority::new(
                cert.clone(),
                self.open(sealed, ca)?,
                vec![info.root.clone()],
            ),
            _ => Authority::new(
                info.root.clone(),
                self.open(&stored.root_key_sealed, ca)?,
                vec![],
            ),
        }
        .map_err(|e| broken(&e))?;
        Ok(Some((info, authority)))
    }

    /// Audits a use of CA `ca` (a signature) as `actor`; `detail` names what was signed.
    pub async fn audit_use(
        &self,
        ca: &str,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), CaError> {
        audit::record(
            self.store.as_ref(),
            actor,
            action,
            &format!("ca {ca}"),
            Some(detail),
        )
        .await
        .map_err(|e| store_error("auditing a CA")(&e))?;
        Ok(())
    }
}

fn decode(bytes: &[u8]) -> Result<StoredCa, CaError> {
    serde_json::from_slice(bytes).map_err(|e| store_error("a stored CA record")(&e))
}

fn info_of(stored: &StoredCa) -> Result<CaInfo, CaError> {
    let cert = |pem: &str| {
        parse_single_certificate(pem.as_bytes())
            .map_err(|e| store_error(&format!("the stored certificate of CA {}", stored.name))(&e))
    };
    Ok(CaInfo {
        name: stored.name.clone(),
        root: cert(&stored.root_pem)?,
        intermediate: stored.intermediate_pem.as_deref().map(cert).transpose()?,
        key_algorithm: stored.key_algorithm.clone(),
        policy: stored.policy.clone(),
        created_at: stored.created_at.clone(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use certfleet_pki::authority::init_ca;
    use certfleet_pki::keys::KeyAlgorithm;
    use certfleet_store::memory::MemoryStore;

    #[tokio::test]
    async fn a_ca_survives_the_store_with_its_keys_sealed_and_audited() {
        let store = MemoryStore::new();
        let master = Arc::new(MasterKey::generate().unwrap());
        let repository = CaRepository::new(Arc::new(store.clone()), master);
        let made = init_ca("Root", KeyAlgorithm::EcdsaP256, 30, Some("Issuing")).unwrap();
        let info = repository
            .create("internal", &made, CaPolicy::default(), "test")
            .await
            .unwrap();
        assert!(info.intermediate.is_some());
        let again = init_ca("Root", KeyAlgorithm::EcdsaP256, 30, None).unwrap();
        let err = repository
            .create("internal", &again, CaPolicy::default(), "test")
            .await
            .unwrap_err();
        assert!(matches!(err, CaError::Exists(_)), "{err}");
        assert!(matches!(
            repository.get("Bad/Name").await.unwrap_err(),
            CaError::BadName(_)
        ));

        let raw = store.list(&keys::cas().unwrap()).await.unwrap();
        assert_eq!(raw.len(), 1);
        assert!(!String::from_utf8_lossy(&raw[0].value).contains("PRIVATE KEY"));

        let (info, authority) = repository.authority("internal").await.unwrap().unwrap();
        assert_eq!(Some(authority.certificate()), info.intermediate.as_ref());
        assert_eq!(repository.list().await.unwrap().len(), 1);
        assert!(repository.get("other").await.unwrap().is_none());
        assert_eq!(audit::list(&store).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_agents_ca_issues_nothing_an_administrator_asks_for() {
        let store = MemoryStore::new();
        let master = Arc::new(MasterKey::generate().unwrap());
        let repository = CaRepository::new(Arc::new(store), master);
        let made = init_ca("agents", KeyAlgorithm::EcdsaP256, 30, None).unwrap();
        repository
            .create(AGENTS_CA, &made, CaPolicy::default(), "test")
            .await
            .unwrap();
        let err = repository.issuing_authority(AGENTS_CA).await.unwrap_err();
        assert!(matches!(err, CaError::Reserved(_)), "{err}");
        assert!(err.to_string().contains("agent identities"), "{err}");
        assert!(repository.authority(AGENTS_CA).await.unwrap().is_some());
    }
}
