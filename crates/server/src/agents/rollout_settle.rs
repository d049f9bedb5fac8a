//! Ends the turns of staged rollouts from the nodes' reports: a turn is complete when its
//! node reports the service `current` with the new certificate; a `rolled_back` or
//! `refused` report after the turn began halts the group, raises a `rollout_halted`
//! alert and is audited. Run after every report and by the periodic watch (reports
//! stored by another server).

use super::model::PlatformView;
use super::records::Records;
use super::rollout::{self, Halt, RolloutRecord, Turn, ACTOR};
use super::Agents;
use certfleet_api::agent::DeploymentOutcome;
use certfleet_monitor::alerts::{AlertBoard, AlertKind};
use std::collections::BTreeSet;

/// How often a settlement is tried again when another server changed the record.
const ATTEMPTS: usize = 8;

/// What became of one turn.
enum Outcome {
    /// Still updating.
    Open,
    /// The node serves the new certificate (its thumbprint).
    Done(String),
    /// The node failed.
    Failed(Halt),
    /// The service left the model or the group.
    Gone,
}

async fn outcome_of(
    view: &PlatformView,
    group: &str,
    records: &Records,
    turn: &Turn,
) -> Result<Outcome, String> {
    let platform = &view.platform.name;
    let still_there = view
        .platform
        .service(&turn.service)
        .is_some_and(|s| s.rollout_group() == group && s.node == turn.node);
    if !still_there {
        return Ok(Outcome::Gone);
    }
    let Some(report) = records.report(platform, &turn.node, &turn.service).await? else {
        return Ok(Outcome::Open);
    };
    let stored = records.cert(platform, &turn.service).await?;
    Ok(match report.outcome {
        DeploymentOutcome::Current => match (&stored, &report.thumbprint) {
            (Some(cert), Some(deployed))
                if cert.sha256 == *deployed && *deployed != turn.previous_sha256 =>
            {
                Outcome::Done(deployed.clone())
            }
            _ => Outcome::Open,
        },
        DeploymentOutcome::RolledBack | DeploymentOutcome::Refused if report.time >= turn.since => {
            Outcome::Failed(Halt {
                service: turn.service.clone(),
                node: turn.node.clone(),
                error: report
                    .error
                    .clone()
                    .unwrap_or_else(|| "the node gave no reason".into()),
                at: report.time,
            })
        }
        _ => Outcome::Open,
    })
}

/// Settles the rollout of `group` in `view`; `true` when it changed.
pub async fn settle_group(
    view: &PlatformView,
    group: &str,
    records: &Records,
    alerts: &AlertBoard,
) -> Result<bool, String> {
    let platform = &view.platform.name;
    for _ in 0..ATTEMPTS {
        let Some((record, revision)) = rollout::load(records, platform, group).await? else {
            return Ok(false);
        };
        let mut next = RolloutRecord {
            turns: Vec::new(),
            halted: record.halted.clone(),
        };
        let mut done = Vec::new();
        let mut halted_now = None;
        for turn in &record.turns {
            match outcome_of(view, group, records, turn).await? {
                Outcome::Open => next.turns.push(turn.clone()),
                Outcome::Done(thumbprint) => done.push((turn.clone(), thumbprint)),
                Outcome::Gone => done.push((turn.clone(), String::new())),
                Outcome::Failed(halt) => {
                    next.turns.push(turn.clone());
                    if next.halted.is_none() {
                        next.halted = Some(halt.clone());
                        halted_now = Some(halt);
                    }
                }
            }
        }
        if next == record {
            return Ok(false);
        }
        // The turns end now: their records carry this moment, before the swap lets
        // another service take a turn (which a server may audit before these are written).
        let decided = time::OffsetDateTime::now_utc();
        if !rollout::swap(records, platform, group, Some(revision), &next).await? {
            continue;
        }
        let store = records.store().as_ref();
        for (turn, thumbprint) in done {
            let detail = if thumbprint.is_empty() {
                format!("group {group}, node {}: left the group", turn.node)
            } else {
                format!(
                    "group {group}, node {}: serves the new certificate (sha256 {thumbprint})",
                    turn.node
                )
            };
            certfleet_store::audit::record_at(
                store,
                decided,
                ACTOR,
                "rollout.done",
                &format!("service {platform}/{}", turn.service),
                Some(&detail),
            )
            .await
            .map_err(|err| format!("audit: {err}"))?;
        }
        if let Some(halt) = halted_now {
            let message = format!(
                "rollout of group {group} of platform {platform} halted: node {} failed to deploy service {}: {} (resume with `certfleet rollout resume {group} --platform {platform}`)",
                halt.node, halt.service, halt.error
            );
            alerts.raise(AlertKind::RolloutHalted, None, message.clone(), 1);
            certfleet_store::audit::record_at(
                store,
                decided,
                ACTOR,
                "rollout.halt",
                &format!("service {platform}/{}", halt.service),
                Some(&message),
            )
            .await
            .map_err(|err| format!("audit: {err}"))?;
        }
        return Ok(true);
    }
    Err(format!(
        "rollout of group {group} of platform {platform}: changed by others {ATTEMPTS} times in a row"
    ))
}

/// Settles every group of `view`; `true` when one changed. Errors are logged.
pub async fn settle_view(view: &PlatformView, records: &Records, alerts: &AlertBoard) -> bool {
    let groups: BTreeSet<&str> = view
        .platform
        .services
        .iter()
        .map(|s| s.rollout_group())
        .collect();
    let mut changed = false;
    for group in groups {
        match settle_group(view, group, records, alerts).await {
            Ok(moved) => changed |= moved,
            Err(err) => tracing::warn!("agents: {err}"),
        }
    }
    changed
}

/// Settles the groups of every configured platform, waking the waiting assignment
/// requests of a platform where one changed.
pub async fn settle_all(agents: &Agents) {
    for name in agents.models.platforms() {
        if let Ok(snapshot) = agents.models.snapshot(name) {
            if settle_view(&snapshot.view, &agents.records, &agents.app.alerts).await {
                agents.changed(name);
            }
        }
    }
}
