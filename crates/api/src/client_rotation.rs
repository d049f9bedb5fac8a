//! The admin client's rotation calls (with the `client` feature), for `certfleet rotate
//! ca|keys|status --platform NAME`: start or roll back a rotation the server carries out
//! through the platform's agents, or read where it stands; and that answer in words.
//! Each call gives the typed answer and the JSON as received, for `--json`.

use crate::admin::plan_apply::{RotationRequest, RotationStatus};
use crate::client::{path_segment, AdminClient};
use anyhow::{Context, Result};
use hyper::Method;
use serde_json::Value;

fn rotation_path(platform: &str) -> String {
    format!("/api/platforms/{}/rotation", path_segment(platform))
}

/// `POST /api/platforms/{platform}/rotation`.
pub fn start_rotation(
    client: &AdminClient,
    platform: &str,
    request: &RotationRequest,
) -> Result<(RotationStatus, Value)> {
    let body = serde_json::to_value(request).context("encoding the rotation request")?;
    client
        .send(Method::POST, &rotation_path(platform), Some(&body))?
        .decode()
}

/// `GET /api/platforms/{platform}/rotation`.
pub fn rotation_status(client: &AdminClient, platform: &str) -> Result<(RotationStatus, Value)> {
    client
        .send(Method::GET, &rotation_path(platform), None)?
        .decode()
}

/// The answer in words: the phase, what the server does next, and each node.
pub fn rotation_status_text(status: &RotationStatus) -> String {
    let Some(rotation) = &status.rotation else {
        let mut text = format!("platform {}: no rotation is running\n", status.platform);
        if let Some(finished) = &status.finished {
            text.push_str(&format!("  last: {finished}\n"));
        }
        return text;
    };
    let mut text = format!(
        "platform {}: {} rotation, phase {} of {} ({}), started {}, this phase since {}{}\n",
        status.platform,
        rotation.kind,
        rotation.phase_number,
        rotation.phases,
        rotation.phase,
        rotation.started,
        rotation.phase_started,
        match status.driven_by.as_deref() {
            Some("server") => ", carried out by the server through the agents",
            _ => ", carried out by each apply of the model",
        }
    );
    text.push_str(&format!("  next: {}\n", rotation.next));
    if !status.nodes.is_empty() {
        let width = status
            .nodes
            .iter()
            .map(|n| n.node.len())
            .max()
            .unwrap_or(0)
            .max("NODE".len());
        text.push_str(&format!("  {:width$}  {:7}  DETAIL\n", "NODE", "STATE"));
        for node in &status.nodes {
            text.push_str(&format!(
                "  {:width$}  {:7}  {}\n",
                node.node,
                node.state,
                if node.detail.is_empty() {
                    "-"
                } else {
                    &node.detail
                }
            ));
        }
    }
    if rotation.rollback_possible {
        let command = if rotation.kind == "keys" {
            "keys"
        } else {
            "ca"
        };
        text.push_str(&format!(
            "  to go back instead: certfleet rotate {command} --platform {} --rollback\n",
            status.platform
        ));
    }
    if rotation.stalled {
        text.push_str(&format!(
            "  warning: phase {} started at {} and has not finished within [agents] rotation_stall_after\n",
            rotation.phase, rotation.phase_started
        ));
    }
    text
}
