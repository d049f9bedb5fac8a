//! The nodes page (`/ui/nodes`): per platform and node, whether its agent enrolled and
//! when it was last seen, and per service where its deployment stands (current,
//! updating, behind, failed, unseen), the desired and deployed certificates' thumbprint
//! prefixes and the last hook and check results. Built from the same function as
//! `GET /api/nodes` ([`crate::agents::status::nodes`]). Each node has a form for a new
//! enrolment token (`POST /api/platforms/{platform}/nodes/{node}/tokens`), shown once
//! with the `certfleet agent enroll` line to run on the node, and an enrolled node a
//! Revoke form.

use super::page::{html, message, Chrome, UiSession};
use crate::agents::records::Records;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use certfleet_api::agent::{CheckResult, HookResult};
use certfleet_api::nodes::{DeploymentState, NodeStatus, ServiceDeployment};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// How many hex digits of a thumbprint the page shows.
const THUMBPRINT_PREFIX: usize = 16;

/// The nodes page.
#[derive(Template)]
#[template(path = "ui/nodes.html")]
pub struct NodesPage {
    /// The frame.
    pub chrome: Chrome,
    /// Every node, by platform then node name.
    pub nodes: Vec<NodeRow>,
    /// The agent listener's URL for `certfleet agent enroll --server`, when `[agents]`
    /// is configured (no token can be used otherwise).
    pub agents_url: Option<String>,
}

/// The URL agents reach the listener of `config` at: its first name and its port.
fn agents_url(config: &certfleet_config::AgentsConfig) -> String {
    let port = config.listen.port();
    match config.names.first() {
        Some(name) if name.parse::<std::net::Ipv6Addr>().is_ok() => {
            format!("https://[{name}]:{port}")
        }
        Some(name) => format!("https://{name}:{port}"),
        None => format!("https://{}", config.listen),
    }
}

/// One node as the page shows it.
pub struct NodeRow {
    /// The platform.
    pub platform: String,
    /// The node.
    pub node: String,
    /// Whether an agent enrolled for it.
    pub enrolled: bool,
    /// When its agent was last seen (RFC 3339), or a dash.
    pub last_seen: String,
    /// The agent's version, or a dash.
    pub agent_version: String,
    /// Its services.
    pub services: Vec<ServiceRow>,
}

/// One service of a node as the page shows it.
pub struct ServiceRow {
    /// The service.
    pub service: String,
    /// Its state's name (`current`, `updating`, `behind`, `failed`, `unseen`).
    pub state: &'static str,
    /// The desired certificate's thumbprint prefix, or a dash.
    pub desired: String,
    /// The deployed certificate's thumbprint prefix, or a dash.
    pub deployed: String,
    /// When the last report came, or a dash.
    pub last_report: String,
    /// The last hook's result in words, or a dash.
    pub hook: String,
    /// Whether the last hook failed.
    pub hook_failed: bool,
    /// The last check's result in words, or a dash.
    pub check: String,
    /// Whether the last check failed.
    pub check_failed: bool,
}

/// The name of a deployment state, as the API spells it.
pub fn state_name(state: DeploymentState) -> &'static str {
    match state {
        DeploymentState::Current => "current",
        DeploymentState::Updating => "updating",
        DeploymentState::Behind => "behind",
        DeploymentState::Failed => "failed",
        DeploymentState::Unseen => "unseen",
    }
}

fn when(at: Option<OffsetDateTime>) -> String {
    at.and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| "—".to_owned())
}

fn prefix(thumbprint: Option<&str>) -> String {
    thumbprint
        .map(|t| t.chars().take(THUMBPRINT_PREFIX).collect())
        .unwrap_or_else(|| "—".to_owned())
}

fn hook_words(hook: &HookResult) -> String {
    let outcome = match (hook.ok, hook.timed_out, hook.exit_code) {
        (true, _, _) => "ok".to_owned(),
        (false, true, _) => "killed at its time limit".to_owned(),
        (false, false, Some(code)) => format!("failed (exit {code})"),
        (false, false, None) => "failed".to_owned(),
    };
    format!("{}: {outcome}", hook.name)
}

fn check_words(check: &CheckResult) -> String {
    let outcome = if check.ok { "ok" } else { "failed" };
    if check.detail.is_empty() {
        outcome.to_owned()
    } else {
        format!("{outcome}: {}", check.detail)
    }
}

fn service_row(service: &ServiceDeployment) -> ServiceRow {
    ServiceRow {
        service: service.service.clone(),
        state: state_name(service.state),
        desired: prefix(service.desired.as_deref()),
        deployed: prefix(service.deployed.as_deref()),
        last_report: when(service.last_report),
        hook: service
            .hook
            .as_ref()
            .map_or_else(|| "—".to_owned(), hook_words),
        hook_failed: service.hook.as_ref().is_some_and(|hook| !hook.ok),
        check: service
            .check
            .as_ref()
            .map_or_else(|| "—".to_owned(), check_words),
        check_failed: service.check.as_ref().is_some_and(|check| !check.ok),
    }
}

/// A node of `GET /api/nodes` as a row of the page.
pub fn node_row(status: &NodeStatus) -> NodeRow {
    NodeRow {
        platform: status.platform.clone(),
        node: status.node.clone(),
        enrolled: status.enrolled,
        last_seen: when(status.last_seen),
        agent_version: status
            .agent_version
            .clone()
            .unwrap_or_else(|| "—".to_owned()),
        services: status.services.iter().map(service_row).collect(),
    }
}

/// `GET /ui/nodes`.
pub async fn page(State(state): State<Arc<AppState>>, UiSession(csrf): UiSession) -> Response {
    let records = Records::new(Arc::clone(&state.store));
    match crate::agents::status::nodes(&state.config.platforms, &records).await {
        Ok(nodes) => html(
            StatusCode::OK,
            &NodesPage {
                chrome: Chrome::new("Nodes", "nodes", csrf),
                nodes: nodes.iter().map(node_row).collect(),
                agents_url: state.config.agents.as_ref().map(agents_url),
            },
        ),
        Err(err) => {
            tracing::error!("the nodes page: {err}");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                csrf,
                "Nodes unavailable",
                "The server could not read its agent records; its log says why.",
            )
        }
    }
}
