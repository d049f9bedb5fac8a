//! The admin API's rotation routes, for rotations the server carries out through the
//! platform's agents ([`super::rotation`]):
//!
//! - `GET /api/platforms/{platform}/rotation`: the rotation under way, its phase and
//!   where each node stands (`certfleet rotate status --platform NAME`);
//! - `POST /api/platforms/{platform}/rotation`: start a CA or keys rotation, or roll the
//!   running one back (`certfleet rotate ca|keys --platform NAME`).
//!
//! Starts and rollbacks are audited under the administrator's name.

use super::model;
use super::records::Records;
use super::rotation::{start_or_roll_back, status};
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
use certfleet_api::admin::plan_apply::{RotationRequest, RotationStatus};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

fn view_of(state: &AppState, platform: &str) -> Result<model::PlatformView, ApiError> {
    let config = model::configured(&state.config.platforms, platform)
        .map_err(|err| ApiError::not_found(err.message()))?;
    model::load(config).map_err(|err| ApiError::unprocessable(err.message()))
}

fn stall_after(state: &AppState) -> Duration {
    state
        .config
        .agents
        .as_ref()
        .map_or(certfleet_config::DEFAULT_ROTATION_STALL_AFTER, |a| {
            a.rotation_stall_after
        })
}

/// `GET /api/platforms/{platform}/rotation`: the platform's rotation.
#[utoipa::path(get, path = "/api/platforms/{platform}/rotation", tag = "platforms",
    params(
        ("platform" = String, Path, description = "The model's [platform] name", example = "qms"),
    ),
    responses(
        (status = 200, description = "The rotation under way (absent when none runs) and, when the server drives it, where each node stands in its phase", body = RotationStatus),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration", body = ErrorBody),
        (status = 422, description = "The platform's model (or its rotation record) does not read", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(platform): Path<String>,
) -> Result<Json<RotationStatus>, ApiError> {
    let view = view_of(&state, &platform)?;
    let records = Records::new(Arc::clone(&state.store));
    let now = OffsetDateTime::now_utc();
    Ok(Json(
        status(&view, &records, stall_after(&state), now).await?,
    ))
}

/// `POST /api/platforms/{platform}/rotation`: start a rotation, or roll one back.
#[utoipa::path(post, path = "/api/platforms/{platform}/rotation", tag = "platforms",
    request_body = RotationRequest,
    params(
        ("platform" = String, Path, description = "The model's [platform] name", example = "qms"),
    ),
    responses(
        (status = 200, description = "Started (phase 1, trust: the new CA is in the CA directory's next/), or rolling back; the server carries out each phase as the nodes report", body = RotationStatus),
        (status = 400, description = "Bad input; the message names the field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration, or no such service in its model", body = ErrorBody),
        (status = 409, description = "A rotation runs already (or none to roll back, or not in a phase that can roll back), no internal CA, or no certificate to re-key yet", body = ErrorBody),
        (status = 422, description = "The platform's model does not validate, or a service is not the internal CA's", body = ErrorBody),
    )
)]
pub async fn start(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path(platform): Path<String>,
    body: Result<Json<RotationRequest>, JsonRejection>,
) -> Result<Json<RotationStatus>, ApiError> {
    let Json(request) = body?;
    let view = view_of(&state, &platform)?;
    let records = Records::new(Arc::clone(&state.store));
    let now = OffsetDateTime::now_utc();
    let record = start_or_roll_back(&view, &request, &records, now).await?;
    let what = record
        .history
        .last()
        .map_or_else(String::new, |event| event.what.clone());
    certfleet_store::audit::record(
        state.store.as_ref(),
        actor,
        if request.rollback {
            "rotation.rollback"
        } else {
            "rotation.start"
        },
        &format!("platform {platform}"),
        Some(&format!(
            "{} rotation, phase {} of 3 ({}): {what}",
            record.kind,
            record.phase.number(),
            record.phase
        )),
    )
    .await
    .map_err(ApiError::internal)?;
    tracing::info!(
        "platform {platform}: {} rotation now in phase {} ({what})",
        record.kind,
        record.phase
    );
    let view = view_of(&state, &platform)?;
    Ok(Json(
        status(&view, &records, stall_after(&state), now).await?,
    ))
}
