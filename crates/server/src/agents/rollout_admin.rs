//! The admin API's renewal and rollout routes:
//!
//! - `POST /api/platforms/{platform}/services/{service}/renew`: the service's stored
//!   certificate is due now (`certfleet renew`); its node renews it in its group's turn;
//! - `POST /api/platforms/{platform}/rollouts/{group}/resume`: a halted rollout group
//!   goes on (`certfleet rollout resume`).
//!
//! Both are audited under the administrator's name; the agent listener sees the change
//! through its watch of the store.

use super::model::{self, PlatformView};
use super::records::Records;
use super::{renewal, rollout};
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use certfleet_api::rollouts::{RenewQuery, RenewalRequested, RolloutResumed};
use std::sync::Arc;

fn view_of(state: &AppState, platform: &str) -> Result<PlatformView, ApiError> {
    let config = model::configured(&state.config.platforms, platform)
        .map_err(|err| ApiError::not_found(err.message()))?;
    model::load(config).map_err(|err| ApiError::unprocessable(err.message()))
}

/// `POST /api/platforms/{platform}/services/{service}/renew`: a renewal now.
#[utoipa::path(post, path = "/api/platforms/{platform}/services/{service}/renew", tag = "platforms",
    params(
        ("platform" = String, Path, description = "The model's [platform] name", example = "qms"),
        ("service" = String, Path, description = "A [[service]] of the model", example = "web"),
        RenewQuery,
    ),
    responses(
        (status = 200, description = "The certificate is due; its node renews it in its group's turn (in its maintenance window, unless `now`)", body = RenewalRequested),
        (status = 400, description = "`now` is not true or false", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration, or no such service in its model", body = ErrorBody),
        (status = 409, description = "No certificate was issued through agents for the service yet", body = ErrorBody),
        (status = 422, description = "The platform's model does not validate", body = ErrorBody),
    )
)]
pub async fn renew(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path((platform, service)): Path<(String, String)>,
    query: Result<Query<RenewQuery>, QueryRejection>,
) -> Result<Json<RenewalRequested>, ApiError> {
    let Query(query) =
        query.map_err(|err| ApiError::bad_request(format!("now: {}", err.body_text())))?;
    let view = view_of(&state, &platform)?;
    let found = view.platform.service(&service).ok_or_else(|| {
        ApiError::not_found(format!(
            "service {service} is not in the model of platform {platform}"
        ))
    })?;
    let records = Records::new(Arc::clone(&state.store));
    let stored = records
        .cert(&platform, &service)
        .await
        .map_err(ApiError::internal)?;
    let no_certificate = || {
        ApiError::conflict(format!(
            "service {service} of platform {platform} has no certificate issued through agents yet: its node asks for one on its own"
        ))
    };
    let record = stored.ok_or_else(no_certificate)?;
    if !renewal::request_renewal(&records, &platform, &service, query.now)
        .await
        .map_err(ApiError::internal)?
    {
        return Err(no_certificate());
    }
    let group = found.rollout_group().to_owned();
    certfleet_store::audit::record(
        state.store.as_ref(),
        actor,
        "service.renew",
        &format!("service {platform}/{service}"),
        Some(&format!(
            "renewal asked for{} (group {group}, sha256 {})",
            if query.now {
                " now, outside maintenance windows"
            } else {
                ""
            },
            record.sha256
        )),
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(RenewalRequested {
        platform,
        service,
        node: found.node.clone(),
        group,
        sha256: record.sha256,
        now: query.now,
    }))
}

/// `POST /api/platforms/{platform}/rollouts/{group}/resume`: a halted group goes on.
#[utoipa::path(post, path = "/api/platforms/{platform}/rollouts/{group}/resume", tag = "platforms",
    params(
        ("platform" = String, Path, description = "The model's [platform] name", example = "qms"),
        ("group" = String, Path, description = "A rollout group: a service's `group`, else its `kind`, else its name", example = "nginx"),
    ),
    responses(
        (status = 200, description = "The group goes on (was_halted: whether it had been halted)", body = RolloutResumed),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration, or no service of that group in its model", body = ErrorBody),
        (status = 422, description = "The platform's model does not validate", body = ErrorBody),
    )
)]
pub async fn resume(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path((platform, group)): Path<(String, String)>,
) -> Result<Json<RolloutResumed>, ApiError> {
    let view = view_of(&state, &platform)?;
    if !view
        .platform
        .services
        .iter()
        .any(|s| s.rollout_group() == group)
    {
        return Err(ApiError::not_found(format!(
            "no service of platform {platform} is in rollout group {group}"
        )));
    }
    let records = Records::new(Arc::clone(&state.store));
    let halt = rollout::resume(&records, &platform, &group)
        .await
        .map_err(ApiError::internal)?;
    if let Some(halt) = &halt {
        certfleet_store::audit::record(
            state.store.as_ref(),
            actor,
            "rollout.resume",
            &format!("group {platform}/{group}"),
            Some(&format!(
                "halted since node {} failed to deploy service {}",
                halt.node, halt.service
            )),
        )
        .await
        .map_err(ApiError::internal)?;
    }
    Ok(Json(RolloutResumed {
        platform,
        group,
        was_halted: halt.is_some(),
        failed_service: halt.as_ref().map(|h| h.service.clone()),
        failed_node: halt.as_ref().map(|h| h.node.clone()),
        error: halt.map(|h| h.error),
    }))
}
