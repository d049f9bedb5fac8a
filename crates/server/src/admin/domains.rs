//! The domain endpoints: list, add, show, set a certificate, set ACME, resolve.
//!
//! A change locks the tree, applies to a copy, persists the changed domain's record
//! (audited as the admin token), swaps the copy into the certificate hub and only then
//! replaces the tree, so a failure at any step leaves the server as it was. Answers carry
//! domain views, which hold the certificate's summary and never its PEM or key.

use crate::domain_service::DomainError;
use crate::domain_views;
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
pub use certfleet_api::admin::domains::{AddDomain, SetAcme, SetCertificate};
use certfleet_api::admin::domains::{CertificateSetJson, DomainJson, ResolutionJson};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// `GET /api/resolve/{name}` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ResolveQuery {
    /// The listener role whose certdir applies; the first listener's when absent.
    #[serde(default)]
    pub role: Option<String>,
}

/// `GET /api/domains`: every domain, ordered by name.
#[utoipa::path(get, path = "/api/domains", tag = "domains",
    responses(
        (status = 200, description = "Every domain", body = [DomainJson]),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Vec<DomainJson>>, ApiError> {
    Ok(Json(domain_views::list(&state).await?))
}

/// `POST /api/domains`: adds a domain (201 with its view).
#[utoipa::path(post, path = "/api/domains", tag = "domains", request_body = AddDomain,
    responses(
        (status = 201, description = "Added", body = DomainJson),
        (status = 400, description = "Bad input; the message names the field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 409, description = "Conflicts with the tree", body = ErrorBody),
    )
)]
pub async fn add(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    body: Result<Json<AddDomain>, JsonRejection>,
) -> Result<(StatusCode, Json<DomainJson>), ApiError> {
    let Json(body) = body?;
    if body.name.trim().is_empty() {
        return Err(ApiError::bad_request("name: must not be empty"));
    }
    let view = state
        .domains
        .change(
            actor,
            "domain.add",
            |tree| {
                let name =
                    tree.add(&body.name, body.parent.as_deref())
                        .map_err(|err| match err {
                            certfleet_edge::EdgeError::UnknownDomain(parent) => {
                                DomainError::Invalid(format!("parent: no domain is named {parent}"))
                            }
                            other => other.into(),
                        })?;
                Ok((name, ()))
            },
            |tree, name, ()| domain_views::view(tree, name),
        )
        .await??;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /api/domains/{name}`.
#[utoipa::path(get, path = "/api/domains/{name}", tag = "domains",
    params(("name" = String, Path, description = "The domain's name")),
    responses(
        (status = 200, description = "The domain", body = DomainJson),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 404, description = "No such domain", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<DomainJson>, ApiError> {
    Ok(Json(domain_views::show(&state, &name).await?))
}

/// `PUT /api/domains/{name}/certificate`: stores a merged bundle; answers the domain's
/// view and the warnings of the check.
#[utoipa::path(put, path = "/api/domains/{name}/certificate", tag = "domains",
    params(("name" = String, Path, description = "The domain's name")),
    request_body = SetCertificate,
    responses(
        (status = 200, description = "Stored and served", body = CertificateSetJson),
        (status = 400, description = "Bad input; the message names the field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such domain", body = ErrorBody),
        (status = 409, description = "Conflicts with the tree", body = ErrorBody),
    )
)]
pub async fn set_certificate(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    body: Result<Json<SetCertificate>, JsonRejection>,
) -> Result<Json<CertificateSetJson>, ApiError> {
    let Json(body) = body?;
    if body.pem.trim().is_empty() {
        return Err(ApiError::bad_request("pem: must not be empty"));
    }
    let answer = state
        .domains
        .change(
            actor,
            "domain.set-cert",
            |tree| {
                let report = tree.set_certificate(&name, &body.pem, body.force)?;
                Ok((report.domain.clone(), report.warnings))
            },
            |tree, name, warnings| -> Result<CertificateSetJson, DomainError> {
                Ok(CertificateSetJson {
                    domain: domain_views::view(tree, name)?,
                    warnings,
                })
            },
        )
        .await??;
    Ok(Json(answer))
}

/// `PUT /api/domains/{name}/acme`: turns automatic issuance on or off.
#[utoipa::path(put, path = "/api/domains/{name}/acme", tag = "domains",
    params(("name" = String, Path, description = "The domain's name")),
    request_body = SetAcme,
    responses(
        (status = 200, description = "The domain with its new settings", body = DomainJson),
        (status = 400, description = "Bad input; the message names the field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such domain", body = ErrorBody),
        (status = 409, description = "Conflicts with the tree", body = ErrorBody),
    )
)]
pub async fn set_acme(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    body: Result<Json<SetAcme>, JsonRejection>,
) -> Result<Json<DomainJson>, ApiError> {
    let Json(body) = body?;
    if let Some(email) = &body.email {
        let email = email.trim();
        if !email.contains('@') || email.contains(char::is_whitespace) {
            return Err(ApiError::bad_request(format!(
                "email: '{email}' is not an e-mail address"
            )));
        }
    }
    let view = state
        .domains
        .change(
            actor,
            "domain.acme",
            |tree| {
                let key = tree
                    .get(&name)
                    .map(|domain| domain.name().to_owned())
                    .ok_or_else(|| DomainError::NotFound(name.clone()))?;
                tree.set_acme(&key, body.enabled, body.email.as_deref())
                    .map_err(|err| DomainError::Invalid(format!("email: {err}")))?;
                Ok((key, ()))
            },
            |tree, key, ()| domain_views::view(tree, key),
        )
        .await??;
    Ok(Json(view))
}

/// `GET /api/resolve/{name}?role=ROLE`: which certificate a handshake naming `name` gets.
#[utoipa::path(get, path = "/api/resolve/{name}", tag = "domains",
    params(("name" = String, Path, description = "The server name (SNI) asked about"), ResolveQuery),
    responses(
        (status = 200, description = "The certificate served, and why", body = ResolutionJson),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(query): Query<ResolveQuery>,
) -> Result<Json<ResolutionJson>, ApiError> {
    let role = query
        .role
        .as_deref()
        .filter(|role| !role.is_empty())
        .unwrap_or_else(|| state.default_role());
    let resolution = state.hub.resolve(Some(&name), role);
    Ok(Json(domain_views::resolution(resolution)))
}
