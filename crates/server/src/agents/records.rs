//! What the server keeps about agents in the store, as JSON under `agents/`:
//!
//! - `agents/tokens/<sha256-hex>`: an enrolment token's hash, node and expiry, and whether
//!   it was used ([`TokenRecord`]);
//! - `agents/nodes/<platform>/<node>`: the node's enrolment, last contact and agent
//!   version ([`NodeRecord`]); deleting it revokes the node's identity;
//! - `agents/certs/<platform>/<service>`: the certificate issued for the key a node holds
//!   ([`CertRecord`]; never a key);
//! - `agents/csrs/<platform>/<service>`: a CSR waiting for an external CA ([`CsrRecord`]);
//! - `agents/reports/<platform>/<node>/<service>`: the last deployment report;
//! - `agents/rollouts/<platform>/<group>`: a service group's staged rollout
//!   ([`super::rollout::RolloutRecord`]).

use certfleet_store::{keys, CasOutcome, Expect, Key, Storage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;

/// The key prefix of everything here.
pub const PREFIX: &str = "agents";

/// How often a node record's change is tried when others keep changing it.
const TOUCH_ATTEMPTS: usize = 8;

/// An enrolment token, by the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The platform.
    pub platform: String,
    /// The node it enrols.
    pub node: String,
    /// When it stops being accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Whether an agent enrolled with it.
    pub used: bool,
}

/// A node's enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// When its agent enrolled (last time).
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: OffsetDateTime,
    /// When its agent last asked or reported.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_seen: Option<OffsetDateTime>,
    /// The agent's version, from its last report.
    #[serde(default)]
    pub agent_version: Option<String>,
    /// The assignment revision last handed to it.
    #[serde(default)]
    pub last_revision: Option<u64>,
}

/// A service's certificate, issued for the key its node holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertRecord {
    /// The leaf (PEM).
    pub leaf_pem: String,
    /// The issuing chain (PEM each), the leaf's issuer first.
    pub chain_pem: Vec<String>,
    /// The leaf's SHA-256, lowercase hex.
    pub sha256: String,
    /// Its validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// Its expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// What the model asked for when it was issued (names, subject, usage, key), compared
    /// with what the model asks for now.
    pub request: String,
    /// An administrator asked for a renewal (`certfleet renew`).
    #[serde(default)]
    pub renewal_requested: bool,
    /// That renewal was asked for with `--now`: it does not wait for a maintenance
    /// window.
    #[serde(default)]
    pub renewal_now: bool,
}

/// A CSR waiting for an external CA's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsrRecord {
    /// The CSR (PEM).
    pub csr_pem: String,
    /// What the model asked for when it came.
    pub request: String,
    /// When it came.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// Typed access to the records.
#[derive(Clone)]
pub struct Records {
    store: Arc<dyn Storage>,
}

/// The store key `agents/<segments...>`; the error names the segment.
pub fn key(segments: &[&str]) -> Result<Key, String> {
    keys::agents(segments).map_err(|err| format!("store key agents/{}: {err}", segments.join("/")))
}

impl Records {
    /// Records in `store`.
    pub fn new(store: Arc<dyn Storage>) -> Self {
        Records { store }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Storage> {
        &self.store
    }

    /// The record at `agents/<segments>` and its store revision, or `None`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<Option<(T, u64)>, String> {
        let key = key(segments)?;
        let Some(entry) = self
            .store
            .get(&key)
            .await
            .map_err(|err| format!("reading {key}: {err}"))?
        else {
            return Ok(None);
        };
        let value = serde_json::from_slice(&entry.value)
            .map_err(|err| format!("the stored record {key}: {err}"))?;
        Ok(Some((value, entry.revision)))
    }

    /// Writes `value` at `agents/<segments>`.
    pub async fn put<T: Serialize>(&self, segments: &[&str], value: &T) -> Result<(), String> {
        let key = key(segments)?;
        let bytes = serde_json::to_vec(value).map_err(|err| format!("encoding {key}: {err}"))?;
        self.store
            .put(&key, &bytes)
            .await
            .map_err(|err| format!("writing {key}: {err}"))?;
        Ok(())
    }

    /// The node record of (`platform`, `node`).
    pub async fn node(&self, platform: &str, node: &str) -> Result<Option<NodeRecord>, String> {
        Ok(self
            .get::<NodeRecord>(&["nodes", platform, node])
            .await?
            .map(|(record, _)| record))
    }

    /// Changes the node record of (`platform`, `node`) with `change`, when it exists and
    /// `change` says it changed something (nothing is written otherwise); a
    /// compare-and-swap, tried again when another request changed the record meanwhile.
    pub async fn touch_node(
        &self,
        platform: &str,
        node: &str,
        change: impl Fn(&mut NodeRecord) -> bool,
    ) -> Result<(), String> {
        let segments = ["nodes", platform, node];
        let key = key(&segments)?;
        for _ in 0..TOUCH_ATTEMPTS {
            let Some((mut record, revision)) = self.get::<NodeRecord>(&segments).await? else {
                return Ok(());
            };
            if !change(&mut record) {
                return Ok(());
            }
            let bytes =
                serde_json::to_vec(&record).map_err(|err| format!("encoding {key}: {err}"))?;
            let outcome = self
                .store
                .compare_and_swap(&key, Expect::Revision(revision), &bytes)
                .await
                .map_err(|err| format!("writing {key}: {err}"))?;
            if matches!(outcome, CasOutcome::Swapped(_)) {
                return Ok(());
            }
        }
        Err(format!(
            "writing {key}: changed by others {TOUCH_ATTEMPTS} times in a row"
        ))
    }

    /// Changes the record at `agents/<segments>` with `change`, when it exists (`false`
    /// otherwise); a compare-and-swap, tried again when another request changed the
    /// record meanwhile.
    pub async fn update<T: Serialize + DeserializeOwned>(
        &self,
        segments: &[&str],
        change: impl Fn(&mut T),
    ) -> Result<bool, String> {
        let key = key(segments)?;
        for _ in 0..TOUCH_ATTEMPTS {
            let Some((mut record, revision)) = self.get::<T>(segments).await? else {
                return Ok(false);
            };
            change(&mut record);
            let bytes =
                serde_json::to_vec(&record).map_err(|err| format!("encoding {key}: {err}"))?;
            let outcome = self
                .store
                .compare_and_swap(&key, Expect::Revision(revision), &bytes)
                .await
                .map_err(|err| format!("writing {key}: {err}"))?;
            if matches!(outcome, CasOutcome::Swapped(_)) {
                return Ok(true);
            }
        }
        Err(format!(
            "writing {key}: changed by others {TOUCH_ATTEMPTS} times in a row"
        ))
    }

    /// The certificate record of `service` of `platform`.
    pub async fn cert(&self, platform: &str, service: &str) -> Result<Option<CertRecord>, String> {
        Ok(self
            .get::<CertRecord>(&["certs", platform, service])
            .await?
            .map(|(record, _)| record))
    }

    /// The waiting CSR of `service` of `platform`.
    pub async fn csr(&self, platform: &str, service: &str) -> Result<Option<CsrRecord>, String> {
        Ok(self
            .get::<CsrRecord>(&["csrs", platform, service])
            .await?
            .map(|(record, _)| record))
    }

    /// The last report of `service` on `node` of `platform`.
    pub async fn report(
        &self,
        platform: &str,
        node: &str,
        service: &str,
    ) -> Result<Option<certfleet_api::agent::DeploymentReport>, String> {
        Ok(self
            .get(&["reports", platform, node, service])
            .await?
            .map(|(record, _)| record))
    }
}
