//! `GET /api/audit`: the store's audit log (who changed what, when), newest first, a
//! page at a time. Records never hold secrets (the store redacts key material before
//! writing), and this endpoint adds none.

use crate::audit_log;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
pub use certfleet_api::admin::audit::{AuditPageJson, AuditRecordJson};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// The largest page `limit` may ask for.
pub const MAX_LIMIT: usize = 500;
/// The page size when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 50;

/// `GET /api/audit` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// How many of the newest records to skip.
    #[serde(default)]
    pub offset: Option<usize>,
    /// At most this many records (1 to 500; 50 when absent).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `GET /api/audit?offset=N&limit=M`.
#[utoipa::path(get, path = "/api/audit", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the audit log, newest first", body = AuditPageJson),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPageJson>, ApiError> {
    let Query(query) = query.map_err(|err| ApiError::bad_request(err.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit: must be between 1 and {MAX_LIMIT}"
        )));
    }
    let page = audit_log::page(&state, query.offset.unwrap_or(0), limit)
        .await
        .map_err(|err| ApiError::internal(format!("reading the audit log: {err}")))?;
    Ok(Json(page))
}
