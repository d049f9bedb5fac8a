//! `GET /api/status`: every certificate the server manages, with its expiry state, and
//! the ACME progress of every domain with ACME on (docs/CLI.md `status`).
//!
//! The certificates are the server's inventory ([`crate::inventory`]): each
//! domain's leaf and the chain stored with it, each listener's certdir, and the
//! installation's default certificate, each listed once with the first that uses it.
//! `state` is `expired` after notAfter, `warning` within `[monitor] warn_days`, else
//! `ok` ([`certfleet_monitor::expiry::ExpiryState`]).

use super::errors::ApiError;
use certfleet_acme::schedule::reported_renew_at;
use crate::inventory;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use certfleet_acme::state::{AcmeProgress, ProgressBook};
use serde_json::{json, Value};
use std::sync::Arc;
use time::OffsetDateTime;

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One domain with ACME on: when its certificate is due, and its stored progress.
pub struct AcmeDomain {
    /// The domain.
    pub name: String,
    /// When its current certificate will be renewed (Unix seconds), if it has one.
    pub renew_at: Option<i64>,
    /// Failures, back-off and last success, from the store.
    pub progress: AcmeProgress,
}

/// Every domain with ACME on, with its progress.
pub async fn acme_domains(state: &AppState) -> Result<Vec<AcmeDomain>, ApiError> {
    let due: Vec<(String, Option<i64>)> = state
        .domains
        .read(|tree| {
            tree.iter()
                .filter(|domain| domain.acme().enabled)
                .map(|domain| {
                    let renew_at = domain
                        .certificate()
                        .and_then(|c| reported_renew_at(c.served().summary()));
                    (domain.name().to_owned(), renew_at)
                })
                .collect()
        })
        .await;
    let book = ProgressBook::new(state.store.as_ref());
    let mut domains = Vec::with_capacity(due.len());
    for (name, renew_at) in due {
        let progress = book
            .get(&name)
            .await
            .map_err(|err| ApiError::internal(format!("ACME progress of {name}: {err}")))?;
        domains.push(AcmeDomain {
            name,
            renew_at,
            progress,
        });
    }
    Ok(domains)
}

/// `GET /api/status`.
#[utoipa::path(get, path = "/api/status", tag = "status",
    responses(
        (status = 200, description = "Every managed certificate and the ACME progress", body = super::schemas::StatusJson),
        (status = 401, description = "No credentials", body = super::errors::ErrorBody),
    )
)]
pub async fn status(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let inventory = inventory::collect(&state).await;
    let at = |unix: Option<i64>| {
        unix.and_then(|u| OffsetDateTime::from_unix_timestamp(u).ok())
            .map(rfc3339)
    };
    let acme: Vec<Value> = acme_domains(&state)
        .await?
        .into_iter()
        .map(|domain| {
            json!({
                "domain": domain.name,
                "renew_at": at(domain.renew_at),
                "failures": domain.progress.failures,
                "last_error": domain.progress.last_error,
                "next_attempt": at(domain.progress.next_attempt_unix),
                "last_success": at(domain.progress.last_success_unix),
            })
        })
        .collect();
    Ok(Json(json!({
        "certificates": inventory.entries,
        "acme": acme,
        "alerts": state.hub.alerts().counts(),
    })))
}
