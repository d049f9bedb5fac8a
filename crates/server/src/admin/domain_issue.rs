//! `POST /api/domains/{name}/certificate/issue`: a leaf for the domain's name from one of
//! the server's CAs, stored as the domain's certificate through the same path as an
//! uploaded bundle (key sealed in the store, audited, swapped into the hub so the edge
//! serves it at once). The answer is the domain's view; the key never leaves the server.

use super::ca_json::{check_days, KeyJson, UsageJson};
use super::cas::repository;
use crate::domain_views;
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
use certfleet_api::admin::domains::DomainJson;
use certfleet_pki::certs::to_pem;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::issue::{issue_leaf, LeafRequest};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;
use zeroize::Zeroizing;

/// The validity asked for when `days` is absent.
const DEFAULT_DAYS: u32 = certfleet_pki::profile::DEFAULT_LEAF_DAYS;

/// `POST /api/domains/{name}/certificate/issue`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueFromCa {
    /// The CA's name.
    #[schema(min_length = 1, max_length = 63)]
    pub ca: String,
    /// The new key's algorithm; ecdsa-p256 when absent.
    #[serde(default)]
    pub key: KeyJson,
    /// Validity in days (365 when absent), capped at the CA's expiry.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 36500)]
    pub days: Option<u32>,
    /// server (the default), client or both.
    #[serde(default)]
    pub usage: UsageJson,
}

/// `POST /api/domains/{name}/certificate/issue`: issues and serves a CA-signed leaf.
#[utoipa::path(post, path = "/api/domains/{name}/certificate/issue", tag = "domains",
    params(("name" = String, Path, description = "The domain's name")),
    request_body = IssueFromCa,
    responses(
        (status = 200, description = "Issued, stored and served", body = DomainJson),
        (status = 400, description = "Bad input or refused by the CA's policy; the message names the field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such domain", body = ErrorBody),
        (status = 409, description = "Conflicts with the tree", body = ErrorBody),
    )
)]
pub async fn issue(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    body: Result<Json<IssueFromCa>, JsonRejection>,
) -> Result<Json<DomainJson>, ApiError> {
    let Json(body) = body?;
    let days = check_days("days", body.days.unwrap_or(DEFAULT_DAYS))?;
    let domain = state
        .domains
        .read(|tree| tree.get(&name).map(|domain| domain.name().to_owned()))
        .await
        .ok_or_else(|| ApiError::not_found(format!("no domain is named {name}")))?;
    let repository = repository(&state);
    let (info, authority) = repository
        .issuing_authority(&body.ca)
        .await
        .map_err(|err| match err {
            crate::cas::CaError::BadName(message) => {
                ApiError::bad_request(message.replacen("name:", "ca:", 1))
            }
            other => other.into(),
        })?
        .ok_or_else(|| ApiError::bad_request(format!("ca: no CA is named {}", body.ca)))?;
    let max_days = info.policy.max_days.unwrap_or(u32::MAX);
    if days > max_days {
        return Err(ApiError::bad_request(format!(
            "days: CA {} grants at most {max_days}",
            info.name
        )));
    }
    let request = LeafRequest {
        cn: domain.clone(),
        dns_names: Vec::new(),
        ips: Vec::new(),
        usage: body.usage.into(),
        days,
        key: body.key.into(),
    };
    let leaf = tokio::task::spawn_blocking(move || {
        issue_leaf(&request, Some(&authority)).map(|leaf| (leaf, authority))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|err| ApiError::bad_request(format!("name: {err}")))?;
    let (leaf, authority) = leaf;
    let chain = authority.issuing_chain();
    // The root is left out: clients trust it already, so the edge does not send it.
    let above = &chain[..chain.len().saturating_sub(1)];
    let mut pem = Zeroizing::new(leaf.key.to_pem().to_string());
    pem.push_str(&to_pem(std::slice::from_ref(&leaf.cert)));
    pem.push_str(&to_pem(above));

    let view = state
        .domains
        .change(
            actor,
            "domain.issue",
            |tree| {
                tree.set_certificate(&domain, &pem, false)?;
                Ok((domain.clone(), ()))
            },
            |tree, name, ()| domain_views::view(tree, name),
        )
        .await??;
    let detail = format!("domain {domain} ({})", sha1_thumbprint(&leaf.cert));
    repository
        .audit_use(&info.name, actor, "ca.issue", &detail)
        .await?;
    Ok(Json(view))
}
