//! `POST /api/domains/{name}/certificate/issue`: a leaf for the domain's name from one of
//! the server's CAs, stored as the domain's certificate and served at once, then renewed
//! automatically two thirds into its lifetime ([`crate::cas::domain_issue`],
//! [`crate::cas::renewal`]). The answer is the domain's view; the key never leaves the
//! server.

use super::ca_json::check_days;
use crate::cas::domain_issue::{issue_for_domain, IssueError, IssueReason, DAY_SECONDS};
use crate::cas::issued_mark::CaIssued;
use crate::cas::renewal::forget_progress;
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
pub use certfleet_api::admin::ca_requests::IssueFromCa;
use certfleet_api::admin::ca_requests::MIN_LIFETIME_SECONDS;
use certfleet_api::admin::domains::DomainJson;
use std::sync::Arc;

/// The validity asked for when neither `days` nor `seconds` is given.
const DEFAULT_DAYS: u32 = certfleet_pki::profile::DEFAULT_LEAF_DAYS;

impl From<IssueError> for ApiError {
    fn from(err: IssueError) -> Self {
        match err {
            IssueError::Invalid(message) => ApiError::bad_request(message),
            IssueError::Ca(err) => err.into(),
            IssueError::Domain(err) => err.into(),
            IssueError::Internal(message) => ApiError::internal(message),
        }
    }
}

/// The lifetime asked for, in seconds: `seconds`, or `days` (365 when neither).
fn lifetime_seconds(body: &IssueFromCa) -> Result<u32, ApiError> {
    match (body.days, body.seconds) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "seconds: give days or seconds, not both",
        )),
        (None, Some(seconds)) => {
            let max = super::ca_json::MAX_DAYS * DAY_SECONDS;
            if !(MIN_LIFETIME_SECONDS..=max).contains(&seconds) {
                return Err(ApiError::bad_request(format!(
                    "seconds: {seconds} is not between {MIN_LIFETIME_SECONDS} and {max}"
                )));
            }
            Ok(seconds)
        }
        (days, None) => Ok(check_days("days", days.unwrap_or(DEFAULT_DAYS))? * DAY_SECONDS),
    }
}

/// `POST /api/domains/{name}/certificate/issue`: issues and serves a CA-signed leaf.
#[utoipa::path(post, path = "/api/domains/{name}/certificate/issue", tag = "domains",
    params(("name" = String, Path, description = "The domain's name")),
    request_body = IssueFromCa,
    responses(
        (status = 200, description = "Issued, stored and served; renewed automatically", body = DomainJson),
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
    let lifetime_seconds = lifetime_seconds(&body)?;
    let domain = state
        .domains
        .read(|tree| tree.get(&name).map(|domain| domain.name().to_owned()))
        .await
        .ok_or_else(|| ApiError::not_found(format!("no domain is named {name}")))?;
    let issued = CaIssued {
        ca: body.ca,
        key: body.key,
        usage: body.usage,
        lifetime_seconds,
    };
    let view = issue_for_domain(&state, actor, &domain, &issued, IssueReason::Asked).await?;
    forget_progress(state.store.as_ref(), &domain)
        .await
        .map_err(|err| ApiError::internal(format!("renewal progress of {domain}: {err}")))?;
    Ok(Json(view))
}
