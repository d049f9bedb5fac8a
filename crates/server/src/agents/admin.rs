//! The admin API's node routes: enrolment tokens for a platform's nodes, and every
//! node's deployment state.
//!
//! - `POST /api/platforms/{platform}/nodes/{node}/tokens`: a single-use token for
//!   `certfleet agent enroll` (shown once; audited without the token);
//! - `GET /api/nodes`: every node of every configured platform ([`super::status`]);
//! - `DELETE /api/platforms/{platform}/nodes/{node}`: the node's enrolment removed, so
//!   its agent's identity is refused from its next request on (audited as
//!   `node.revoke`).

use super::ca::stored_pin;
use super::model;
use super::records::{key, NodeRecord, Records};
use super::tokens::{self, DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS};
use crate::cas::CaRepository;
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use certfleet_api::nodes::{NodeRevoked, NodeToken, NodeTokenRequest, NodesAnswer};
use std::sync::Arc;
use time::OffsetDateTime;

/// `POST /api/platforms/{platform}/nodes/{node}/tokens`: a new enrolment token.
#[utoipa::path(post, path = "/api/platforms/{platform}/nodes/{node}/tokens", tag = "platforms",
    params(
        ("platform" = String, Path, description = "The model's [platform] name", example = "qms"),
        ("node" = String, Path, description = "A [[node]] of the model", example = "node-1"),
    ),
    request_body = NodeTokenRequest,
    responses(
        (status = 201, description = "The token, shown once, and its expiry", body = NodeToken),
        (status = 400, description = "A ttl_seconds out of range, or a body that is not the request's JSON", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration, or no such node in its model", body = ErrorBody),
        (status = 409, description = "The server has no agent listener ([agents])", body = ErrorBody),
    )
)]
pub async fn create_token(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path((platform, node)): Path<(String, String)>,
    body: Result<Json<NodeTokenRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<NodeToken>), ApiError> {
    let Json(request) = body?;
    let ttl = request.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(1..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ApiError::bad_request(format!(
            "ttl_seconds: {ttl} is not between 1 and {MAX_TTL_SECONDS}"
        )));
    }
    let config = model::configured(&state.config.platforms, &platform)
        .map_err(|err| ApiError::not_found(err.message()))?;
    let view = model::load(config).map_err(|err| ApiError::unprocessable(err.message()))?;
    if !view.has_node(&node) {
        return Err(ApiError::not_found(format!(
            "node {node} is not in the model of platform {platform} (nodes: {})",
            view.nodes.join(", ")
        )));
    }
    if state.config.agents.is_none() {
        return Err(no_listener());
    }
    let repository = CaRepository::new(Arc::clone(&state.store), Arc::clone(&state.master_key));
    let pin = stored_pin(&repository)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(no_listener)?;
    let made = tokens::create(
        state.store.as_ref(),
        &platform,
        &node,
        &pin,
        ttl,
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(ApiError::internal)?;
    let expires = made
        .record
        .expires_at
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(ApiError::internal)?;
    certfleet_store::audit::record(
        state.store.as_ref(),
        actor,
        "node.token",
        &format!("node {platform}/{node}"),
        Some(&format!("enrolment token valid until {expires}")),
    )
    .await
    .map_err(ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(NodeToken {
            platform,
            node,
            token: made.token.to_string(),
            expires_at: made.record.expires_at,
        }),
    ))
}

fn no_listener() -> ApiError {
    ApiError::conflict(
        "this server has no agent listener: add an [agents] block (listen = \"HOST:PORT\") to its configuration and restart it",
    )
}

/// `GET /api/nodes`: every node of every configured platform, with each service's
/// desired and deployed certificate.
#[utoipa::path(get, path = "/api/nodes", tag = "status",
    responses(
        (status = 200, description = "The nodes, by platform then node name", body = NodesAnswer),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn nodes(State(state): State<Arc<AppState>>) -> Result<Json<NodesAnswer>, ApiError> {
    let records = Records::new(Arc::clone(&state.store));
    let nodes = super::status::nodes(&state.config.platforms, &records)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(NodesAnswer { nodes }))
}

/// `DELETE /api/platforms/{platform}/nodes/{node}`: revokes a node's agent.
#[utoipa::path(delete, path = "/api/platforms/{platform}/nodes/{node}", tag = "platforms",
    params(
        ("platform" = String, Path, description = "The model's [platform] name", example = "qms"),
        ("node" = String, Path, description = "An enrolled node of the platform", example = "node-1"),
    ),
    responses(
        (status = 200, description = "The enrolment is removed: the node's agent is refused from now on and must enrol again with a new token", body = NodeRevoked),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration, or no agent enrolled for the node", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path((platform, node)): Path<(String, String)>,
) -> Result<Json<NodeRevoked>, ApiError> {
    model::configured(&state.config.platforms, &platform)
        .map_err(|err| ApiError::not_found(err.message()))?;
    let records = Records::new(Arc::clone(&state.store));
    let segments = ["nodes", platform.as_str(), node.as_str()];
    let not_enrolled = || {
        ApiError::not_found(format!(
            "node {node} of platform {platform} is not enrolled: no agent enrolled for it, or it was revoked already (certfleet nodes lists the nodes)"
        ))
    };
    // A name that cannot be a store key was never enrolled.
    let node_key = key(&segments).map_err(|_| not_enrolled())?;
    let (record, _) = records
        .get::<NodeRecord>(&segments)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_enrolled)?;
    let removed = records
        .store()
        .delete(&node_key)
        .await
        .map_err(ApiError::internal)?;
    if !removed {
        return Err(not_enrolled());
    }
    certfleet_store::audit::record(
        state.store.as_ref(),
        actor,
        "node.revoke",
        &format!("node {platform}/{node}"),
        Some("enrolment removed: the agent's identity is refused until it enrols again"),
    )
    .await
    .map_err(ApiError::internal)?;
    tracing::info!("agents: node {node} of platform {platform} revoked by {actor}");
    Ok(Json(NodeRevoked {
        platform,
        node,
        enrolled_at: record.enrolled_at,
    }))
}
