//! The CA endpoints: list, create, show, and the certificates for trust stores.
//!
//! Creating a CA makes its keys on the server (in a blocking task), seals them in the
//! store and audits the change; no answer ever carries a CA key.

use super::ca_json::{ca_json, check_days, no_such_ca, CaJson, PolicyJson};
use crate::cas::choices::{key_algorithm, subject_attributes};
pub use crate::cas::view::repository;
use crate::cas::{name, CaPolicy};
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use certfleet_api::admin::audit::AuditRecordJson;
pub use certfleet_api::admin::ca_requests::CreateCa;
use certfleet_pki::authority::init_ca_with_subject;
use certfleet_pki::certs::to_pem;
use std::sync::Arc;

/// The longest common name accepted (RFC 5280's upper bound).
const MAX_CN: usize = 64;

fn check_cn(field: &str, cn: &str) -> Result<(), ApiError> {
    if cn.trim().is_empty() || cn.len() > MAX_CN || cn.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{field}: must be 1 to {MAX_CN} printable characters"
        )));
    }
    Ok(())
}

fn check_policy(policy: Option<PolicyJson>) -> Result<CaPolicy, ApiError> {
    let policy = policy.unwrap_or_default();
    if let Some(max) = policy.max_days {
        check_days("policy.max_days", max)?;
    }
    for domain in &policy.allowed_domains {
        certfleet_pki::names::dns(domain).map_err(|err| {
            ApiError::bad_request(format!("policy.allowed_domains: '{domain}': {err}"))
        })?;
    }
    Ok(CaPolicy {
        allowed_domains: policy.allowed_domains,
        max_days: policy.max_days,
    })
}

/// `GET /api/cas`: every CA, ordered by name.
#[utoipa::path(get, path = "/api/cas", tag = "cas",
    responses(
        (status = 200, description = "Every CA", body = [CaJson]),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Vec<CaJson>>, ApiError> {
    let cas = repository(&state).list().await?;
    Ok(Json(cas.iter().map(ca_json).collect::<Result<_, _>>()?))
}

/// `POST /api/cas`: makes a CA (201 with its description).
#[utoipa::path(post, path = "/api/cas", tag = "cas", request_body = CreateCa,
    responses(
        (status = 201, description = "Made and stored", body = CaJson),
        (status = 400, description = "Bad input; the message names the field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 409, description = "A CA of that name exists", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    body: Result<Json<CreateCa>, JsonRejection>,
) -> Result<(StatusCode, Json<CaJson>), ApiError> {
    let Json(body) = body?;
    name::validate(&body.name).map_err(ApiError::bad_request)?;
    check_cn("cn", &body.cn)?;
    if let Some(icn) = &body.intermediate_cn {
        check_cn("intermediate_cn", icn)?;
    }
    let days = check_days("days", body.days)?;
    let policy = check_policy(body.policy)?;
    let repository = repository(&state);
    if repository.get(&body.name).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "name: a CA named {} exists already",
            body.name
        )));
    }
    let subject = subject_attributes(body.subject.as_ref())
        .checked()
        .map_err(|err| ApiError::bad_request(format!("subject: {err}")))?;
    let (cn, icn, key) = (body.cn, body.intermediate_cn, key_algorithm(body.key));
    let made = tokio::task::spawn_blocking(move || {
        init_ca_with_subject(&cn, &subject, key, days, icn.as_deref())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|err| ApiError::bad_request(format!("cn: {err}")))?;
    let info = repository.create(&body.name, &made, policy, actor).await?;
    Ok((StatusCode::CREATED, Json(ca_json(&info)?)))
}

/// `GET /api/cas/{name}`.
#[utoipa::path(get, path = "/api/cas/{name}", tag = "cas",
    params(("name" = String, Path, description = "The CA's name")),
    responses(
        (status = 200, description = "The CA", body = CaJson),
        (status = 400, description = "Not a CA name", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 404, description = "No such CA", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(ca): Path<String>,
) -> Result<Json<CaJson>, ApiError> {
    let info = repository(&state)
        .get(&ca)
        .await?
        .ok_or_else(|| no_such_ca(&ca))?;
    Ok(Json(ca_json(&info)?))
}

/// `GET /api/cas/{name}/certificate`: the root then the intermediate, PEM, for trust
/// stores.
#[utoipa::path(get, path = "/api/cas/{name}/certificate", tag = "cas",
    params(("name" = String, Path, description = "The CA's name")),
    responses(
        (status = 200, description = "The CA's certificates, root first",
            content((String = "application/pem-certificate-chain"))),
        (status = 400, description = "Not a CA name", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 404, description = "No such CA", body = ErrorBody),
    )
)]
pub async fn certificate(
    State(state): State<Arc<AppState>>,
    Path(ca): Path<String>,
) -> Result<Response, ApiError> {
    let info = repository(&state)
        .get(&ca)
        .await?
        .ok_or_else(|| no_such_ca(&ca))?;
    Ok((
        [(CONTENT_TYPE, "application/pem-certificate-chain")],
        to_pem(&info.certificates()),
    )
        .into_response())
}

/// `GET /api/cas/{name}/issued`: what the CA signed and issued (its `ca.sign`,
/// `ca.issue` and `ca.renew` audit records), newest first.
#[utoipa::path(get, path = "/api/cas/{name}/issued", tag = "cas",
    params(("name" = String, Path, description = "The CA's name")),
    responses(
        (status = 200, description = "The CA's signatures and issuances, newest first", body = [AuditRecordJson]),
        (status = 400, description = "Not a CA name", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 404, description = "No such CA", body = ErrorBody),
    )
)]
pub async fn issued(
    State(state): State<Arc<AppState>>,
    Path(ca): Path<String>,
) -> Result<Json<Vec<AuditRecordJson>>, ApiError> {
    repository(&state)
        .get(&ca)
        .await?
        .ok_or_else(|| no_such_ca(&ca))?;
    let records = crate::audit_log::ca_uses(&state, &ca)
        .await
        .map_err(|err| ApiError::internal(format!("reading the audit log: {err}")))?;
    Ok(Json(records))
}
