//! `GET /api/status`: every certificate the server manages, with its expiry state, and
//! the ACME progress of every domain with ACME on (docs/CLI.md `status`); built by
//! [`crate::status_report`].

use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::status_report::{self, StatusError};
use axum::extract::State;
use axum::Json;
use certfleet_api::admin::status::StatusJson;
use std::sync::Arc;

impl From<StatusError> for ApiError {
    fn from(err: StatusError) -> Self {
        ApiError::internal(err)
    }
}

/// `GET /api/status`.
#[utoipa::path(get, path = "/api/status", tag = "status",
    responses(
        (status = 200, description = "Every managed certificate and the ACME progress", body = StatusJson),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn status(State(state): State<Arc<AppState>>) -> Result<Json<StatusJson>, ApiError> {
    Ok(Json(status_report::report(&state).await?))
}
