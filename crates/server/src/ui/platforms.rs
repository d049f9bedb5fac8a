//! The platform pages: `/ui/platforms` lists the models the server's configuration
//! names (`[[platform]]`); `/ui/platforms/NAME` shows one as a plan that writes nothing
//! ([`crate::platform_service::preview`]): its derived trust graph drawn
//! ([`super::platform_graph`]), each service's certificate, what it trusts and why and
//! whom it accepts, the pending changes, and buttons that plan and apply through the
//! API; while a rotation runs, its phase and, when the server carries it out, where each
//! node stands.

use super::page::{html, message, Chrome, UiSession};
use super::platform_graph::{layout, GraphEdge, GraphService, Layout};
use crate::agents::records::Records;
use crate::agents::{model, rotation};
use crate::platform_service::{self, PlatformServiceError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use certfleet_api::admin::plan_apply::{Change, PendingCsrFile, RotationNode, ServiceReport};
use certfleet_api::admin::platforms::PlatformSummary;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `/ui/platforms`.
#[derive(Template)]
#[template(path = "ui/platforms.html")]
pub struct PlatformsPage {
    /// The frame.
    pub chrome: Chrome,
    /// The configured platforms.
    pub platforms: Vec<PlatformSummary>,
}

/// `/ui/platforms/NAME`.
#[derive(Template)]
#[template(path = "ui/platform.html")]
pub struct PlatformPage {
    /// The frame.
    pub chrome: Chrome,
    /// The platform as configured.
    pub platform: PlatformSummary,
    /// Why the model cannot be planned, when it cannot (the rest is then empty).
    pub problem: Option<String>,
    /// The trust graph drawn.
    pub graph: Layout,
    /// How many connections the graph has.
    pub connection_count: usize,
    /// Each service's report.
    pub services: Vec<ServiceReport>,
    /// What an apply would change.
    pub changes: Vec<Change>,
    /// CSRs waiting for an external CA.
    pub pending_csrs: Vec<PendingCsrFile>,
    /// The rotation under way, when one is.
    pub rotation: Option<RotationView>,
}

/// The rotation block of the platform page: phase N of 3 and, when the server carries
/// it out, each node done, waiting or failed.
pub struct RotationView {
    /// Kind, phase, since when, who carries it out.
    pub title: String,
    /// What comes next.
    pub next: String,
    /// Whether the phase has lasted too long.
    pub stalled: bool,
    /// Each node (rotations the server carries out).
    pub nodes: Vec<RotationNode>,
}

/// `name`'s rotation, when one runs (a model or record that does not read shows none:
/// the plan below names the problem).
async fn rotation_view(state: &AppState, name: &str) -> Option<RotationView> {
    let config = model::configured(&state.config.platforms, name).ok()?;
    let view = model::load(config).ok()?;
    let records = Records::new(Arc::clone(&state.store));
    let stall_after = state
        .config
        .agents
        .as_ref()
        .map_or(certfleet_config::DEFAULT_ROTATION_STALL_AFTER, |a| {
            a.rotation_stall_after
        });
    let status = rotation::status(&view, &records, stall_after, OffsetDateTime::now_utc())
        .await
        .ok()?;
    let r = status.rotation?;
    let by = match status.driven_by.as_deref() {
        Some("server") => "carried out by the server through the agents",
        _ => "carried out by each apply of the model",
    };
    Some(RotationView {
        title: format!(
            "{} rotation, phase {} of {} ({}), started {}, this phase since {}; {by}.",
            r.kind, r.phase_number, r.phases, r.phase, r.started, r.phase_started
        ),
        next: r.next,
        stalled: r.stalled,
        nodes: status.nodes,
    })
}

/// `GET /ui/platforms`.
pub async fn list_page(State(state): State<Arc<AppState>>, UiSession(csrf): UiSession) -> Response {
    let platforms = state
        .config
        .platforms
        .iter()
        .map(platform_service::summary)
        .collect();
    html(
        StatusCode::OK,
        &PlatformsPage {
            chrome: Chrome::new("Platforms", "platforms", csrf),
            platforms,
        },
    )
}

/// `GET /ui/platforms/NAME`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    UiSession(csrf): UiSession,
    Path(name): Path<String>,
) -> Response {
    let Some(config) = state.config.platforms.iter().find(|p| p.name == name) else {
        return message(
            StatusCode::NOT_FOUND,
            csrf,
            "Platform not found",
            &format!("The server's configuration names no platform '{name}' ([[platform]])."),
        );
    };
    let platform = platform_service::summary(config);
    let chrome = Chrome::new(format!("Platform {name}"), "platforms", csrf);
    let empty = |chrome, problem| PlatformPage {
        chrome,
        platform: platform_service::summary(config),
        problem: Some(problem),
        graph: layout(Vec::new(), &[]),
        connection_count: 0,
        services: Vec::new(),
        changes: Vec::new(),
        pending_csrs: Vec::new(),
        rotation: None,
    };
    let report = match platform_service::preview(&state, &name).await {
        Ok(report) => report,
        Err(PlatformServiceError::Internal(detail)) => {
            tracing::error!("the page of platform {name}: {detail}");
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                &empty(
                    chrome,
                    "The server could not plan the platform; its log says why.".to_owned(),
                ),
            );
        }
        Err(err) => return html(StatusCode::OK, &empty(chrome, err.to_string())),
    };
    let now = OffsetDateTime::now_utc();
    let warn_days = i64::from(state.config.warn_days);
    let drawn: Vec<GraphService> = report
        .services
        .iter()
        .map(|s| GraphService {
            name: s.name.clone(),
            summary: format!("{} · {} · {}", s.node, s.issuer, s.status),
            class: state_class(s, now, warn_days).to_owned(),
        })
        .collect();
    let edges: Vec<GraphEdge> = report
        .connections
        .iter()
        .map(|c| GraphEdge {
            from: c.from.clone(),
            to: c.to.clone(),
            mtls: c.mtls,
        })
        .collect();
    html(
        StatusCode::OK,
        &PlatformPage {
            chrome,
            platform,
            problem: None,
            graph: layout(drawn, &edges),
            connection_count: edges.len(),
            services: report.services,
            changes: report.changes,
            pending_csrs: report.pending_csrs,
            rotation: rotation_view(&state, &name).await,
        },
    )
}

/// A service's box colour: pending until it has a certificate, then by its expiry.
fn state_class(service: &ServiceReport, now: OffsetDateTime, warn_days: i64) -> &'static str {
    let Some(ends) = service
        .not_after
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
    else {
        return "state-pending";
    };
    if service.status != "ready" {
        "state-pending"
    } else if ends <= now {
        "state-expired"
    } else if (ends - now).whole_days() < warn_days {
        "state-warning"
    } else {
        "state-ok"
    }
}
