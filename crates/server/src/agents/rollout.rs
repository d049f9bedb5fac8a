//! Staged rollouts: the services of one rollout group (the model's `group`, else `kind`)
//! get a new certificate at most `[platform] max_unavailable` at a time. A service whose
//! stored certificate must change is told `Wanted` only once it holds a turn of its
//! group; until then its assignment keeps its current certificate. Turns end when the
//! node reports the new certificate current ([`super::rollout_settle`]); a failed turn
//! halts the group until an administrator resumes it.
//!
//! The state of a group lives in the store at `agents/rollouts/<platform>/<group>` and is
//! changed only by compare-and-swap, so servers sharing a store take one decision at a
//! time.

use super::records::{key, Records};
use certfleet_store::{CasOutcome, Expect};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The audit actor of the rollout's own decisions.
pub const ACTOR: &str = "agent-rollout";

/// How often a decision is tried again when another server changed the record.
const ATTEMPTS: usize = 8;

/// A service group's rollout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutRecord {
    /// The services updating now.
    #[serde(default)]
    pub turns: Vec<Turn>,
    /// Set when a turn failed: no further turn is given until it is cleared.
    #[serde(default)]
    pub halted: Option<Halt>,
}

/// A service's turn to get a new certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// The service.
    pub service: String,
    /// Its node.
    pub node: String,
    /// The thumbprint of the certificate it had when the turn began.
    pub previous_sha256: String,
    /// Why it renews.
    pub reason: String,
    /// When the turn was given.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

/// Why a group stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halt {
    /// The service whose deployment failed.
    pub service: String,
    /// Its node.
    pub node: String,
    /// The node's error.
    pub error: String,
    /// When the failure was reported.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A service that wants a turn.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// The platform.
    pub platform: &'a str,
    /// The service's rollout group.
    pub group: &'a str,
    /// `[platform] max_unavailable`.
    pub max_unavailable: u32,
    /// The service.
    pub service: &'a str,
    /// Its node.
    pub node: &'a str,
    /// The thumbprint of its current certificate.
    pub previous_sha256: &'a str,
    /// Why it must renew.
    pub reason: &'a str,
}

/// The rollout record of `group` of `platform` and its store revision.
pub async fn load(
    records: &Records,
    platform: &str,
    group: &str,
) -> Result<Option<(RolloutRecord, u64)>, String> {
    records.get(&["rollouts", platform, group]).await
}

/// Writes `record` when the stored one is still at `revision` (`None`: absent); `false`
/// when another server changed it meanwhile.
pub async fn swap(
    records: &Records,
    platform: &str,
    group: &str,
    revision: Option<u64>,
    record: &RolloutRecord,
) -> Result<bool, String> {
    let key = key(&["rollouts", platform, group])?;
    let bytes = serde_json::to_vec(record).map_err(|err| format!("encoding {key}: {err}"))?;
    let expect = revision.map_or(Expect::Absent, Expect::Revision);
    let outcome = records
        .store()
        .compare_and_swap(&key, expect, &bytes)
        .await
        .map_err(|err| format!("writing {key}: {err}"))?;
    Ok(matches!(outcome, CasOutcome::Swapped(_)))
}

/// Whether `candidate` may renew now: it holds a turn, or it is given one because its
/// group is not halted and fewer than `max_unavailable` services are updating. A turn
/// given is audited.
pub async fn take_turn(
    records: &Records,
    candidate: &Candidate<'_>,
    now: OffsetDateTime,
) -> Result<bool, String> {
    let Candidate {
        platform, group, ..
    } = *candidate;
    for _ in 0..ATTEMPTS {
        let (mut record, revision) = match load(records, platform, group).await? {
            Some((record, revision)) => (record, Some(revision)),
            None => (RolloutRecord::default(), None),
        };
        if record.turns.iter().any(|t| t.service == candidate.service) {
            return Ok(true);
        }
        let limit = usize::try_from(candidate.max_unavailable).unwrap_or(usize::MAX);
        if record.halted.is_some() || record.turns.len() >= limit {
            return Ok(false);
        }
        record.turns.push(Turn {
            service: candidate.service.to_owned(),
            node: candidate.node.to_owned(),
            previous_sha256: candidate.previous_sha256.to_owned(),
            reason: candidate.reason.to_owned(),
            since: now,
        });
        if swap(records, platform, group, revision, &record).await? {
            certfleet_store::audit::record(
                records.store().as_ref(),
                ACTOR,
                "rollout.turn",
                &format!("service {platform}/{}", candidate.service),
                Some(&format!(
                    "group {group}, node {}: its turn to renew ({})",
                    candidate.node, candidate.reason
                )),
            )
            .await
            .map_err(|err| format!("audit: {err}"))?;
            tracing::info!(
                "agents: rollout of group {group} of platform {platform}: service {} on node {} renews ({})",
                candidate.service,
                candidate.node,
                candidate.reason
            );
            return Ok(true);
        }
    }
    Err(format!(
        "rollout of group {group} of platform {platform}: changed by others {ATTEMPTS} times in a row"
    ))
}

/// Clears the halt of `group` of `platform` and ends the failed service's turn, so the
/// group goes on; the halt that was cleared, if any.
pub async fn resume(
    records: &Records,
    platform: &str,
    group: &str,
) -> Result<Option<Halt>, String> {
    for _ in 0..ATTEMPTS {
        let Some((mut record, revision)) = load(records, platform, group).await? else {
            return Ok(None);
        };
        let Some(halt) = record.halted.take() else {
            return Ok(None);
        };
        record.turns.retain(|turn| turn.service != halt.service);
        if swap(records, platform, group, Some(revision), &record).await? {
            return Ok(Some(halt));
        }
    }
    Err(format!(
        "rollout of group {group} of platform {platform}: changed by others {ATTEMPTS} times in a row"
    ))
}
