//! Deleting a domain (`DELETE /api/domains/{name}[?recursive=true]`) and moving it under
//! another parent (`PUT /api/domains/{name}/parent`). The work is the domain service's
//! ([`crate::domain_service::DomainService::delete_branch`],
//! [`crate::domain_service::DomainService::move_branch`]); these handlers check the
//! request and shape the answer.

use crate::domain_service::AcmeLeftovers;
use crate::domain_views;
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
pub use certfleet_api::admin::domain_lifecycle::{DeleteDomainQuery, MoveDomain};
use certfleet_api::admin::domain_lifecycle::{DomainDeletedJson, DomainMovedJson};
use std::sync::Arc;

/// `DELETE /api/domains/{name}`: deletes a domain, with `recursive=true` also every
/// domain below it; its certificate, sealed key and ACME records go with it and
/// handshakes naming it fall back at once as for a name never added.
#[utoipa::path(delete, path = "/api/domains/{name}", tag = "domains",
    params(("name" = String, Path, description = "The domain's name"), DeleteDomainQuery),
    responses(
        (status = 200, description = "Deleted, with every domain that went", body = DomainDeletedJson),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such domain", body = ErrorBody),
        (status = 409, description = "The domain has children and recursive is not set; the message counts and names them", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    query: Result<Query<DeleteDomainQuery>, QueryRejection>,
) -> Result<Json<DomainDeletedJson>, ApiError> {
    let Query(query) =
        query.map_err(|err| ApiError::bad_request(format!("query: {}", err.body_text())))?;
    let acme = AcmeLeftovers {
        store: state.store.as_ref(),
        challenges: &state.challenges,
    };
    let deleted = state
        .domains
        .delete_branch(actor, &name, query.recursive, acme)
        .await?;
    Ok(Json(DomainDeletedJson {
        name: deleted.name,
        parent: deleted.parent,
        deleted: deleted.deleted,
    }))
}

/// `PUT /api/domains/{name}/parent`: moves a domain, and every domain below it, under
/// another existing domain. The moved domains now inherit the certificate of their new
/// ancestors (when they have none of their own).
#[utoipa::path(put, path = "/api/domains/{name}/parent", tag = "domains",
    params(("name" = String, Path, description = "The domain's name")),
    request_body = MoveDomain,
    responses(
        (status = 200, description = "Moved (or already there), with the domain as it is now", body = DomainMovedJson),
        (status = 400, description = "Bad input, or no domain has the parent's name; the message names the field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such domain", body = ErrorBody),
        (status = 409, description = "The move would break the tree: the master, or a parent that is the domain itself or lies below it", body = ErrorBody),
    )
)]
pub async fn move_domain(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    body: Result<Json<MoveDomain>, JsonRejection>,
) -> Result<Json<DomainMovedJson>, ApiError> {
    let Json(body) = body?;
    let parent = body.parent.trim();
    if parent.is_empty() {
        return Err(ApiError::bad_request("parent: must not be empty"));
    }
    let answer = state
        .domains
        .move_branch(actor, &name, parent, |tree, moved| {
            domain_views::view(tree, &moved.name).map(|domain| DomainMovedJson {
                domain,
                old_parent: moved.old_parent.clone(),
                new_parent: moved.new_parent.clone(),
                descendants: moved.descendants.clone(),
                changed: moved.changed(),
            })
        })
        .await??;
    let domain = domain_views::with_progress(&state, answer.domain).await?;
    Ok(Json(DomainMovedJson { domain, ..answer }))
}
