//! The domain endpoints: list, add, show, set a certificate, set ACME, resolve.
//!
//! A change locks the tree, applies to a copy, persists the changed domain's record
//! (audited as the admin token), swaps the copy into the certificate hub and only then
//! replaces the tree, so a failure at any step leaves the server as it was. Answers carry
//! domain views, which hold the certificate's summary and never its PEM or key.

use super::errors::ApiError;
use crate::serve::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use certfleet_edge::tree::DomainTree;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Who the audit log names for changes made through the API.
const ACTOR: &str = "admin-token";

/// `POST /api/domains`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddDomain {
    /// The new domain's name.
    pub name: String,
    /// Its parent; the master when absent (or the new master in an empty tree).
    #[serde(default)]
    pub parent: Option<String>,
}

/// `PUT /api/domains/{name}/certificate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetCertificate {
    /// The merged key + certificate + chain.
    pub pem: String,
    /// Store it even when it does not cover the domain's name.
    #[serde(default)]
    pub force: bool,
}

/// `PUT /api/domains/{name}/acme`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetAcme {
    /// The ACME account's contact address.
    #[serde(default)]
    pub email: Option<String>,
    /// Automatic issuance on or off.
    pub enabled: bool,
}

/// `GET /api/resolve/{name}` query.
#[derive(Debug, Deserialize)]
pub struct ResolveQuery {
    /// The listener role whose certdir applies; the first listener's when absent.
    #[serde(default)]
    pub role: Option<String>,
}

/// A domain's JSON object (`domain show --json`), with `acme.renew_at`.
fn view_json(tree: &DomainTree, name: &str) -> Result<Value, ApiError> {
    let domain = tree
        .get(name)
        .ok_or_else(|| ApiError::not_found(format!("no domain is named {name}")))?;
    let mut value = serde_json::to_value(tree.view(domain)).map_err(ApiError::internal)?;
    if let Some(acme) = value.get_mut("acme").and_then(Value::as_object_mut) {
        acme.entry("renew_at").or_insert(Value::Null);
    }
    Ok(value)
}

/// Persists `name`'s record from `next`, swaps `next` into the hub and makes it the tree.
async fn commit(
    state: &AppState,
    tree: &mut DomainTree,
    next: DomainTree,
    name: &str,
    action: &str,
) -> Result<(), ApiError> {
    let record = next
        .get(name)
        .map(|domain| domain.to_record())
        .ok_or_else(|| ApiError::internal(format!("{name} vanished from the changed tree")))?;
    state
        .domains
        .save(&record, ACTOR, action)
        .await
        .map_err(|err| ApiError::internal(format!("saving domain {name}: {err}")))?;
    state
        .hub
        .set_tree(&next)
        .map_err(|err| ApiError::internal(format!("indexing the tree after {action}: {err}")))?;
    *tree = next;
    Ok(())
}

/// `GET /api/domains`: every domain, ordered by name.
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let tree = state.tree.lock().await;
    let views = tree
        .iter()
        .map(|domain| view_json(&tree, domain.name()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Value::Array(views)))
}

/// `POST /api/domains`: adds a domain (201 with its view).
pub async fn add(
    State(state): State<Arc<AppState>>,
    body: Result<Json<AddDomain>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    if body.name.trim().is_empty() {
        return Err(ApiError::bad_request("name: must not be empty"));
    }
    let mut tree = state.tree.lock().await;
    let mut next = tree.clone();
    let name = next
        .add(&body.name, body.parent.as_deref())
        .map_err(|err| match err {
            certfleet_edge::EdgeError::UnknownDomain(parent) => {
                ApiError::bad_request(format!("parent: no domain is named {parent}"))
            }
            other => other.into(),
        })?;
    commit(&state, &mut tree, next, &name, "domain.add").await?;
    Ok((StatusCode::CREATED, Json(view_json(&tree, &name)?)))
}

/// `GET /api/domains/{name}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let tree = state.tree.lock().await;
    Ok(Json(view_json(&tree, &name)?))
}

/// `PUT /api/domains/{name}/certificate`: stores a merged bundle; answers the domain's
/// view and the warnings of the check.
pub async fn set_certificate(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Result<Json<SetCertificate>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    if body.pem.trim().is_empty() {
        return Err(ApiError::bad_request("pem: must not be empty"));
    }
    let mut tree = state.tree.lock().await;
    let mut next = tree.clone();
    let report = next.set_certificate(&name, &body.pem, body.force)?;
    let name = report.domain.clone();
    commit(&state, &mut tree, next, &name, "domain.set-cert").await?;
    Ok(Json(json!({
        "domain": view_json(&tree, &name)?,
        "warnings": report.warnings,
    })))
}

/// `PUT /api/domains/{name}/acme`: turns automatic issuance on or off.
pub async fn set_acme(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Result<Json<SetAcme>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    if let Some(email) = &body.email {
        let email = email.trim();
        if !email.contains('@') || email.contains(char::is_whitespace) {
            return Err(ApiError::bad_request(format!(
                "email: '{email}' is not an e-mail address"
            )));
        }
    }
    let mut tree = state.tree.lock().await;
    let mut next = tree.clone();
    let key = next
        .get(&name)
        .map(|domain| domain.name().to_owned())
        .ok_or_else(|| ApiError::not_found(format!("no domain is named {name}")))?;
    next.set_acme(&key, body.enabled, body.email.as_deref())
        .map_err(|err| ApiError::bad_request(format!("email: {err}")))?;
    commit(&state, &mut tree, next, &key, "domain.acme").await?;
    Ok(Json(view_json(&tree, &key)?))
}

/// `GET /api/resolve/{name}?role=ROLE`: which certificate a handshake naming `name` gets.
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(query): Query<ResolveQuery>,
) -> Result<Json<Value>, ApiError> {
    let role = query
        .role
        .as_deref()
        .filter(|role| !role.is_empty())
        .unwrap_or_else(|| state.default_role());
    let resolution = state.hub.resolve(Some(&name), role);
    Ok(Json(
        serde_json::to_value(&resolution).map_err(ApiError::internal)?,
    ))
}
