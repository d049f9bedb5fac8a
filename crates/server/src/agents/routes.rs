//! The agent listener's routes under `/agent/v1` ([`certfleet_api::agent`]): enrolment
//! with a token (no client certificate), and with an agent identity: identity renewal,
//! the node's assignment (a long poll), CSRs for its services, and deployment reports.

use super::assignment;
use super::auth::require_identity;
use super::errors::AgentError;
use super::identity::AgentIdentity;
use super::issue::request_certificate;
use super::model_cache::Snapshot;
use super::records::NodeRecord;
use super::report_alerts::raise_if_failed;
use super::rollout_settle::settle_group;
use super::tokens::{self, TokenError};
use super::Agents;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use certfleet_api::agent::{
    Assignment, CertificateRequest, CertificateState, DeploymentReport, EnrollRequest, Identity,
    IdentityRenewal, ASSIGNMENT_WAIT_SECONDS, PREFIX,
};
use certfleet_pki::certs::to_pem;
use certfleet_pki::csr::read_csr;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// The agent listener's router.
pub fn router(agents: Arc<Agents>) -> Router {
    let identified = Router::new()
        .route(&format!("{PREFIX}/identity"), post(renew_identity))
        .route(&format!("{PREFIX}/assignment"), get(assignment))
        .route(&format!("{PREFIX}/certificates"), post(certificates))
        .route(&format!("{PREFIX}/reports"), post(reports))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&agents),
            require_identity,
        ));
    Router::new()
        .route(&format!("{PREFIX}/enroll"), post(enroll))
        .merge(identified)
        .fallback(|| async { AgentError::not_found("no such agent route") })
        .with_state(agents)
}

fn body<T>(parsed: Result<Json<T>, JsonRejection>) -> Result<T, AgentError> {
    parsed
        .map(|Json(value)| value)
        .map_err(|err| AgentError::bad_request(format!("request body: {}", err.body_text())))
}

/// The identity answer for a certificate signed for the CSR in `csr_pem`.
fn issue_identity(
    agents: &Agents,
    csr_pem: &str,
    platform: &str,
    node: &str,
) -> Result<Identity, AgentError> {
    let csr = read_csr(csr_pem.as_bytes())
        .map_err(|err| AgentError::bad_request(format!("csr_pem: {err}")))?;
    let signed = agents
        .ca
        .sign_identity(&csr, platform, node, agents.identity_days)
        .map_err(AgentError::internal)?;
    let lifetime = signed.not_after - signed.not_before;
    Ok(Identity {
        platform: platform.to_owned(),
        node: node.to_owned(),
        certificate_pem: to_pem(std::slice::from_ref(&signed.cert)),
        agents_ca_pem: agents.ca.pem(),
        not_after: signed.not_after,
        renew_after: signed.not_before + lifetime * 2 / 3,
    })
}

/// `POST /agent/v1/enroll`: a token and a CSR for the agent's key; the identity.
async fn enroll(
    State(agents): State<Arc<Agents>>,
    request: Result<Json<EnrollRequest>, JsonRejection>,
) -> Result<Json<Identity>, AgentError> {
    let request = body(request)?;
    // The CSR is checked before the token is spent on it.
    read_csr(request.csr_pem.as_bytes())
        .map_err(|err| AgentError::bad_request(format!("csr_pem: {err}")))?;
    let now = OffsetDateTime::now_utc();
    let token = tokens::consume(agents.app.store.as_ref(), &request.token, now)
        .await
        .map_err(|err| match err {
            TokenError::Unknown => AgentError::unauthorized(err.to_string()),
            TokenError::Used | TokenError::Expired => AgentError::forbidden(err.to_string()),
            TokenError::Store(message) => AgentError::internal(message),
        })?;
    let snapshot = agents.models.snapshot(&token.platform)?;
    if !snapshot.view.has_node(&token.node) {
        return Err(AgentError::not_found(format!(
            "node {} is no longer in the model of platform {}",
            token.node, token.platform
        )));
    }
    let identity = issue_identity(&agents, &request.csr_pem, &token.platform, &token.node)?;
    let record = NodeRecord {
        enrolled_at: now,
        last_seen: Some(now),
        agent_version: None,
        last_revision: None,
    };
    agents
        .records
        .put(&["nodes", &token.platform, &token.node], &record)
        .await
        .map_err(AgentError::internal)?;
    certfleet_store::audit::record(
        agents.app.store.as_ref(),
        "agent",
        "node.enroll",
        &format!("node {}/{}", token.platform, token.node),
        None,
    )
    .await
    .map_err(AgentError::internal)?;
    tracing::info!(
        "agents: node {} of platform {} enrolled",
        token.node,
        token.platform
    );
    agents.changed(&token.platform);
    Ok(Json(identity))
}

/// `POST /agent/v1/identity`: a fresh identity for the same node.
async fn renew_identity(
    State(agents): State<Arc<Agents>>,
    Extension(identity): Extension<AgentIdentity>,
    request: Result<Json<IdentityRenewal>, JsonRejection>,
) -> Result<Json<Identity>, AgentError> {
    let request = body(request)?;
    Ok(Json(issue_identity(
        &agents,
        &request.csr_pem,
        &identity.platform,
        &identity.node,
    )?))
}

/// `GET /agent/v1/assignment` query.
#[derive(Debug, Deserialize)]
struct AssignmentQuery {
    /// The revision the agent has; the answer waits while it is still current.
    after: Option<u64>,
}

/// The model of `identity`'s platform, which must still have its node.
fn snapshot_of(agents: &Agents, identity: &AgentIdentity) -> Result<Arc<Snapshot>, AgentError> {
    let snapshot = agents.models.snapshot(&identity.platform)?;
    if !snapshot.view.has_node(&identity.node) {
        return Err(AgentError::forbidden(format!(
            "node {} is no longer in the model of platform {}",
            identity.node, identity.platform
        )));
    }
    Ok(snapshot)
}

async fn evaluate(agents: &Agents, identity: &AgentIdentity) -> Result<Assignment, AgentError> {
    // Read before the snapshot and the records, so a change meanwhile counts next time.
    let certs_generation = agents.models.certs_generation(&identity.platform);
    let snapshot = snapshot_of(agents, identity)?;
    assignment::evaluate(
        &snapshot,
        &identity.node,
        &agents.records,
        &agents.app.master_key,
        (
            OffsetDateTime::now_utc(),
            time::Duration::days(i64::from(agents.app.config.warn_days)),
        ),
        certs_generation,
    )
    .await
}

/// `GET /agent/v1/assignment?after=REV`: the node's assignment; with `after` equal to
/// its revision, held until it changes or [`ASSIGNMENT_WAIT_SECONDS`] pass (at most
/// the `[limits]` idle time-out).
async fn assignment(
    State(agents): State<Arc<Agents>>,
    Extension(identity): Extension<AgentIdentity>,
    query: Result<Query<AssignmentQuery>, QueryRejection>,
) -> Result<Json<Assignment>, AgentError> {
    let Query(query) =
        query.map_err(|err| AgentError::bad_request(format!("after: {}", err.body_text())))?;
    // Subscribed before the first evaluation, so that no change after it is missed.
    let mut changes = agents.models.subscribe(&identity.platform)?;
    let mut stopping = agents.stopping();
    // Never longer than the idle time-out, after which the connection would be closed.
    let wait =
        Duration::from_secs(ASSIGNMENT_WAIT_SECONDS).min(agents.app.config.limits.idle_timeout);
    let deadline = Instant::now() + wait;
    let mut current = evaluate(&agents, &identity).await?;
    while query.after == Some(current.revision) {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => break,
            _ = stopping.wait_for(|stop| *stop) => break,
            changed = changes.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
        current = evaluate(&agents, &identity).await?;
    }
    let revision = current.revision;
    agents
        .records
        .touch_node(&identity.platform, &identity.node, |record| {
            let changed = record.last_revision != Some(revision);
            record.last_revision = Some(revision);
            changed
        })
        .await
        .map_err(AgentError::internal)?;
    Ok(Json(current))
}

/// `POST /agent/v1/certificates`: a CSR for one of the node's services, or the
/// certificate a node signed for a self-signed one.
async fn certificates(
    State(agents): State<Arc<Agents>>,
    Extension(identity): Extension<AgentIdentity>,
    request: Result<Json<CertificateRequest>, JsonRejection>,
) -> Result<Json<CertificateState>, AgentError> {
    let request = body(request)?;
    let snapshot = snapshot_of(&agents, &identity)?;
    let service = snapshot
        .view
        .service_of_node(&identity.node, &request.service)?;
    super::acme_orders::refuse_unconfigured(&agents.app.config, &snapshot.view, service)?;
    let state = request_certificate(
        &snapshot.view,
        service,
        &request.csr_pem,
        request.certificate_pem.as_deref(),
        &agents.records,
        OffsetDateTime::now_utc(),
    )
    .await?;
    agents.models.certs_changed(&identity.platform);
    Ok(Json(state))
}

/// `POST /agent/v1/reports`: what the node did for one of its services; a staged
/// rollout of its group moves on (or halts) with it.
async fn reports(
    State(agents): State<Arc<Agents>>,
    Extension(identity): Extension<AgentIdentity>,
    request: Result<Json<DeploymentReport>, JsonRejection>,
) -> Result<StatusCode, AgentError> {
    let report = body(request)?;
    let snapshot = snapshot_of(&agents, &identity)?;
    let view = &snapshot.view;
    view.service_of_node(&identity.node, &report.service)?;
    let (platform, node) = (&identity.platform, &identity.node);
    let previous = agents.records.report(platform, node, &report.service).await;
    agents
        .records
        .put(&["reports", platform, node, &report.service], &report)
        .await
        .map_err(AgentError::internal)?;
    agents
        .records
        .touch_node(platform, node, |record| {
            let changed = record.agent_version.as_deref() != Some(report.agent_version.as_str());
            record.agent_version = Some(report.agent_version.clone());
            changed
        })
        .await
        .map_err(AgentError::internal)?;
    let group = view.service_of_node(node, &report.service)?.rollout_group();
    settle_group(view, group, &agents.records, &agents.app.alerts)
        .await
        .map_err(AgentError::internal)?;
    let previous = previous.map_err(AgentError::internal)?;
    let at = (platform.as_str(), node.as_str(), group);
    raise_if_failed(
        &agents.records,
        &agents.app.alerts,
        at,
        previous.as_ref(),
        &report,
    )
    .await;
    agents.changed(platform);
    Ok(StatusCode::NO_CONTENT)
}
