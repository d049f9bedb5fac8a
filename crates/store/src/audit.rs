//! The audit log: one record per change (who, what, which object, when), kept in the
//! store under `audit/`, in time order, never holding a secret, and one info line in the
//! log per record (target `certfleet::audit`: actor, action, object).
//!
//! Records name objects ("domain example.com", "certificate 3F2A…"); callers pass
//! names, not values. As a last line of defence, a detail that looks like key material
//! or a sealed value (`-----BEGIN … PRIVATE KEY`, `CRYPT:`) is replaced by
//! `[redacted]` before it is written.

use crate::error::{Result, StoreError};
use crate::key::Key;
use crate::storage::Storage;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The key prefix of audit records.
pub const AUDIT_PREFIX: &str = "audit";

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Who made the change (`admin-token`, `cli`, `acme-renewal`, a node name).
    pub actor: String,
    /// What was done (`domain.add`, `domain.set-cert`, `ca.init`, ...).
    pub action: String,
    /// The object changed, by name.
    pub object: String,
    /// Optional words about the change; never a secret.
    pub detail: Option<String>,
    /// When, RFC 3339 UTC.
    pub at: String,
}

fn redact(detail: Option<&str>) -> Option<String> {
    detail.map(|text| {
        if text.contains("PRIVATE KEY") || text.contains("CRYPT:") {
            "[redacted]".to_owned()
        } else {
            text.to_owned()
        }
    })
}

/// Appends a record for a change just made. Returns the record as written.
pub async fn record(
    store: &dyn Storage,
    actor: &str,
    action: &str,
    object: &str,
    detail: Option<&str>,
) -> Result<AuditRecord> {
    record_at(
        store,
        OffsetDateTime::now_utc(),
        actor,
        action,
        object,
        detail,
    )
    .await
}

/// Appends a record for a change decided at `now` (earlier than the write, when the
/// change itself was made first: the record then sorts before what the change let others
/// do). Returns the record as written.
pub async fn record_at(
    store: &dyn Storage,
    now: OffsetDateTime,
    actor: &str,
    action: &str,
    object: &str,
    detail: Option<&str>,
) -> Result<AuditRecord> {
    let record = AuditRecord {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object: object.to_owned(),
        detail: redact(detail),
        at: now
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
    };
    let mut suffix = [0u8; 4];
    aws_lc_rs::rand::fill(&mut suffix)
        .map_err(|_| StoreError::Secret("the random source failed".into()))?;
    // Zero-padded nanoseconds sort as text in time order; the random suffix keeps two
    // records of the same instant apart.
    let id = format!(
        "{:020}-{}",
        now.unix_timestamp_nanos().max(0),
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let key = Key::from_segments([AUDIT_PREFIX, id.as_str()])?;
    let value = serde_json::to_vec(&record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store.put(&key, &value).await?;
    // One line per change in the server's log, as in the audit log: who, what and on
    // which object; never the detail, which may be long.
    tracing::info!(
        target: "certfleet::audit",
        actor = %record.actor,
        action = %record.action,
        object = %record.object,
        "{} {} {}",
        record.actor,
        record.action,
        record.object
    );
    Ok(record)
}

/// Every record, oldest first.
pub async fn list(store: &dyn Storage) -> Result<Vec<AuditRecord>> {
    let prefix = Key::from_segments([AUDIT_PREFIX])?;
    store
        .list(&prefix)
        .await?
        .into_iter()
        .map(|entry| {
            serde_json::from_slice(&entry.value)
                .map_err(|e| StoreError::Corrupt(format!("audit record {}: {e}", entry.key)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;

    #[tokio::test]
    async fn a_record_of_an_earlier_decision_sorts_before_a_later_one_written_first() {
        let store = MemoryStore::new();
        let decided = OffsetDateTime::now_utc();
        record(&store, "rollout", "rollout.turn", "service web-2", None)
            .await
            .unwrap();
        record_at(
            &store,
            decided,
            "rollout",
            "rollout.done",
            "service web-1",
            None,
        )
        .await
        .unwrap();
        let actions: Vec<String> = list(&store)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert_eq!(actions, ["rollout.done", "rollout.turn"]);
    }

    #[tokio::test]
    async fn records_come_back_in_order_and_secrets_are_redacted() {
        let store = MemoryStore::new();
        record(&store, "cli", "domain.add", "domain example.com", None)
            .await
            .unwrap();
        record(
            &store,
            "cli",
            "domain.set-cert",
            "domain example.com",
            Some("-----BEGIN PRIVATE KEY-----\nMIIE..."),
        )
        .await
        .unwrap();
        record(
            &store,
            "cli",
            "route.set",
            "route app",
            Some("password CRYPT:AbCd"),
        )
        .await
        .unwrap();
        let all = list(&store).await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].action, "domain.add");
        assert_eq!(all[1].detail.as_deref(), Some("[redacted]"));
        assert_eq!(all[2].detail.as_deref(), Some("[redacted]"));
        assert!(all.iter().all(|r| r.at.ends_with('Z')));
    }
}
