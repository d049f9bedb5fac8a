//! `GET /api/status`: every certificate the server manages, with its expiry state, and
//! the ACME progress of every domain with ACME on (SPEC C7, CLI.md `status`).
//!
//! Certificates: each domain's leaf and the chain stored with it, each listener's
//! certdir, and the installation's default certificate; a certificate shared by several
//! (a common intermediate) is listed once, with the first that uses it. `state` is
//! `expired` after notAfter, `warning` within `[monitor] warn_days`, else `ok`.

use super::errors::ApiError;
use crate::serve::acme::due::reported_renew_at;
use crate::serve::state::AppState;
use axum::extract::State;
use axum::Json;
use certfleet_acme::state::ProgressBook;
use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::resolver::CertdirState;
use certfleet_pki::inspect::describe_certificate;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use time::OffsetDateTime;

/// The certificates gathered so far, without repeats.
struct Inventory {
    now: OffsetDateTime,
    warn_days: i64,
    seen: HashSet<String>,
    certificates: Vec<Value>,
}

impl Inventory {
    /// Adds the chain of `served`: `owner` is what uses it (`domain NAME`, `certdir
    /// ROLE`, `default`), `domain` the domain when it is one.
    fn add(&mut self, served: &ServedCertificate, owner: &str, domain: Option<&str>) {
        for (position, der) in served.certified_key().cert.iter().enumerate() {
            let Ok(info) = describe_certificate(der, self.now) else {
                continue; // it parsed when it was loaded; nothing sensible to report
            };
            if !self.seen.insert(info.sha1_thumbprint.clone()) {
                continue;
            }
            let expired = OffsetDateTime::parse(
                &info.not_after,
                &time::format_description::well_known::Rfc3339,
            )
            .map_or(info.days_remaining < 0, |not_after| not_after < self.now);
            let state = if expired {
                "expired"
            } else if info.days_remaining < self.warn_days {
                "warning"
            } else {
                "ok"
            };
            self.certificates.push(json!({
                "subject": info.subject,
                "issuer": info.issuer,
                "domain": domain,
                "used_by": owner,
                "role": chain_role(position, info.is_ca && info.subject == info.issuer),
                "sha1_thumbprint": info.sha1_thumbprint,
                "not_after": info.not_after,
                "days_remaining": info.days_remaining,
                "state": state,
            }));
        }
    }
}

/// `leaf` (first), `root` (self-issued CA) or `intermediate`.
fn chain_role(position: usize, self_issued_ca: bool) -> &'static str {
    match (position, self_issued_ca) {
        (0, _) => "leaf",
        (_, true) => "root",
        _ => "intermediate",
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `GET /api/status`.
#[utoipa::path(get, path = "/api/status", tag = "status",
    responses(
        (status = 200, description = "Every managed certificate and the ACME progress", body = super::schemas::StatusJson),
        (status = 401, description = "No credentials", body = super::errors::ErrorBody),
    )
)]
pub async fn status(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let mut inventory = Inventory {
        now: OffsetDateTime::now_utc(),
        warn_days: i64::from(state.config.warn_days),
        seen: HashSet::new(),
        certificates: Vec::new(),
    };
    let mut acme_domains = Vec::new();
    {
        let tree = state.tree.lock().await;
        for domain in tree.iter() {
            if let Some(certificate) = domain.certificate() {
                let owner = format!("domain {}", domain.name());
                inventory.add(certificate.served(), &owner, Some(domain.name()));
            }
            if domain.acme().enabled {
                let renew_at = domain
                    .certificate()
                    .and_then(|c| reported_renew_at(c.served().summary()));
                acme_domains.push((domain.name().to_owned(), renew_at));
            }
        }
    }
    let snapshot = state.hub.snapshot();
    for listener in &state.config.listeners {
        if let Some(CertdirState::Loaded(served)) = snapshot.certdir(&listener.role) {
            inventory.add(served, &format!("certdir {}", listener.role), None);
        }
    }
    inventory.add(snapshot.default_certificate(), "default", None);

    let book = ProgressBook::new(state.store.as_ref());
    let mut acme = Vec::new();
    for (name, renew_at) in acme_domains {
        let progress = book
            .get(&name)
            .await
            .map_err(|err| ApiError::internal(format!("ACME progress of {name}: {err}")))?;
        let at = |unix: Option<i64>| {
            unix.and_then(|u| OffsetDateTime::from_unix_timestamp(u).ok())
                .map(rfc3339)
        };
        acme.push(json!({
            "domain": name,
            "renew_at": at(renew_at),
            "failures": progress.failures,
            "last_error": progress.last_error,
            "next_attempt": at(progress.next_attempt_unix),
            "last_success": at(progress.last_success_unix),
        }));
    }
    Ok(Json(json!({
        "certificates": inventory.certificates,
        "acme": acme,
        "alerts": state.hub.alerts().counts(),
    })))
}
