//! Moves the rotations the server drives from phase to phase. Every [`POLL`] each
//! platform with a server-driven rotation is judged ([`super::rotation_progress`]): the
//! nodes' progress is kept in the store (`agents/rotations/<platform>`, what `GET
//! /api/platforms/{name}/rotation` shows), and once every node is done the phase ends —
//! decided by compare-and-swap of that record, so of the servers sharing a store exactly
//! one moves it on — and the record enters the next phase, or the rotation ends (after
//! retire the new CA is promoted, after a rollback it is abandoned) and is archived.
//! Every phase change and node step is audited; a phase older than `[agents]
//! rotation_stall_after` raises one `rotation_stalled` alert.

use super::records::key;
use super::rotation::{progress_key, stalled, Progress};
use super::rotation_progress::{self, DONE};
use super::Agents;
use certfleet_monitor::alerts::AlertKind;
use certfleet_platform::rotation::new_ca::{abandon, promote};
use certfleet_platform::rotation::record::{Driver, Kind, Phase, Record};
use certfleet_store::{CasOutcome, Expect};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// How often the running rotations are judged.
pub const POLL: Duration = Duration::from_secs(1);

/// The audit actor of the rotation's own steps.
pub const ACTOR: &str = "agent-rotation";

/// Judges the running rotations every [`POLL`] until the server stops.
pub async fn run(agents: Arc<Agents>) {
    let mut stopping = agents.stopping();
    loop {
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(POLL) => {}
        }
        let platforms: Vec<String> = agents.models.platforms().map(str::to_owned).collect();
        for platform in platforms {
            if let Err(err) = judge(&agents, &platform).await {
                tracing::warn!("rotation of platform {platform}: {err}");
            }
        }
    }
}

/// Judges `platform`'s rotation once, moving it on when its phase is done.
async fn judge(agents: &Agents, platform: &str) -> Result<(), String> {
    let certs_generation = agents.models.certs_generation(platform);
    let Ok(snapshot) = agents.models.snapshot(platform) else {
        // A model that does not load is reported to its agents.
        return Ok(());
    };
    let Some(record) = snapshot.view.rotation.clone() else {
        return Ok(());
    };
    if record.driven_by != Driver::Server {
        return Ok(());
    }
    let nodes = rotation_progress::nodes(agents, &snapshot, certs_generation)
        .await
        .map_err(|err| err.message().to_owned())?;
    let segments = progress_key(platform);
    let stored = agents.records.get::<Progress>(&segments).await?;
    let (before, revision) = match stored {
        Some((progress, revision)) => (progress, Some(revision)),
        None => (Progress::default(), None),
    };
    let same_phase = before.started == record.started && before.phase == record.phase.name();
    let mut progress = Progress {
        started: record.started.clone(),
        phase: record.phase.name().to_owned(),
        nodes: nodes.clone(),
        stalled_alerted: same_phase && before.stalled_alerted,
    };
    let now = OffsetDateTime::now_utc();
    let stall_after = stall_after(agents);
    let raise_stall = stalled(&record, stall_after, now) && !progress.stalled_alerted;
    progress.stalled_alerted |= raise_stall;
    let finished = !nodes.is_empty() && nodes.iter().all(|n| n.state == DONE);
    let next_phase = record.phase.next();
    if finished {
        progress.phase = next_phase.map_or("finished", Phase::name).to_owned();
        progress.nodes = Vec::new();
        progress.stalled_alerted = false;
    }
    if progress == before {
        return Ok(());
    }
    if !swap(agents, &segments, revision, &progress).await? {
        // Another server judged it meanwhile: it is judged again at the next poll.
        return Ok(());
    }
    let audit = |action: &'static str, detail: String| async move {
        let object = format!("platform {platform}");
        certfleet_store::audit::record(
            agents.records.store().as_ref(),
            ACTOR,
            action,
            &object,
            Some(&detail),
        )
        .await
        .map_err(|err| format!("audit: {err}"))
    };
    if same_phase {
        for node in &nodes {
            let was = before.nodes.iter().find(|n| n.node == node.node);
            if was.map(|n| n.state.as_str()) != Some(node.state.as_str()) {
                audit(
                    "rotation.node",
                    format!(
                        "{} rotation, phase {} ({}): node {} {}{}",
                        record.kind,
                        record.phase.number(),
                        record.phase,
                        node.node,
                        node.state,
                        if node.detail.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", node.detail)
                        }
                    ),
                )
                .await?;
            }
        }
    }
    if raise_stall {
        let message = format!(
            "the {} rotation of platform {platform} has been in phase {} of 3 ({}) since {}, longer than [agents] rotation_stall_after ({} s); waiting: {}",
            record.kind,
            record.phase.number(),
            record.phase,
            record.phase_started,
            stall_after.as_secs(),
            nodes
                .iter()
                .filter(|n| n.state != DONE)
                .map(|n| format!("node {} {} ({})", n.node, n.state, n.detail))
                .collect::<Vec<_>>()
                .join(", ")
        );
        agents
            .app
            .alerts
            .raise(AlertKind::RotationStalled, None, message.clone(), 1);
        audit("rotation.stalled", message).await?;
    }
    if finished {
        let what = advance(&snapshot.view, record, now)?;
        tracing::info!("rotation of platform {platform}: {what}");
        audit("rotation.phase", what).await?;
        agents.changed(platform);
    }
    Ok(())
}

/// The phase of `record` is done on every node: the next one starts, or the rotation
/// ends; what happened, in a sentence.
fn advance(
    view: &super::model::PlatformView,
    mut record: Record,
    now: OffsetDateTime,
) -> Result<String, String> {
    let state_dir = &view.state_dir;
    let done = record.phase;
    if let Some(next) = done.next() {
        record.enter(next, now, format!("phase {done} done on every node"));
        record.save(state_dir).map_err(|e| e.to_string())?;
        return Ok(format!(
            "{} rotation: phase {} ({done}) done on every node; phase {} ({next}) begins",
            record.kind,
            done.number(),
            next.number()
        ));
    }
    let ca_dir = view.ca_dir.as_deref().filter(|_| record.kind != Kind::Keys);
    let what = match (done, ca_dir) {
        (Phase::Retire, Some(dir)) => {
            let retired = promote(dir, now).map_err(|e| e.to_string())?;
            format!(
                "finished: the new CA is in place, the old one in {}",
                retired.display()
            )
        }
        (Phase::RollbackTrust, Some(dir)) => {
            let abandoned = abandon(dir, now).map_err(|e| e.to_string())?;
            format!(
                "rolled back: the old CA stays, the new one was moved to {}",
                abandoned.display()
            )
        }
        (Phase::RollbackTrust | Phase::RollbackReissue, None) => "rolled back".to_owned(),
        _ => "finished".to_owned(),
    };
    let kind = record.kind;
    let kept = record
        .archive(state_dir, now, format!("{what} (driven by the server)"))
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "{kind} rotation {what}; the record is kept in {}",
        kept.display()
    ))
}

/// `[agents] rotation_stall_after`.
fn stall_after(agents: &Agents) -> Duration {
    agents
        .app
        .config
        .agents
        .as_ref()
        .map_or(certfleet_config::DEFAULT_ROTATION_STALL_AFTER, |a| {
            a.rotation_stall_after
        })
}

/// Writes `progress` when the stored one is still at `revision`; `false` when another
/// server changed it meanwhile.
async fn swap(
    agents: &Agents,
    segments: &[&str],
    revision: Option<u64>,
    progress: &Progress,
) -> Result<bool, String> {
    let key = key(segments)?;
    let bytes = serde_json::to_vec(progress).map_err(|err| format!("encoding {key}: {err}"))?;
    let expect = revision.map_or(Expect::Absent, Expect::Revision);
    let outcome = agents
        .records
        .store()
        .compare_and_swap(&key, expect, &bytes)
        .await
        .map_err(|err| format!("writing {key}: {err}"))?;
    Ok(matches!(outcome, CasOutcome::Swapped(_)))
}
