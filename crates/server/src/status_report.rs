//! What the server knows about the certificates it manages, for `GET /api/status`, the
//! metrics and the web UI's dashboard alike: every certificate with its expiry state,
//! the ACME progress of every domain with ACME on, and the renewals of domain
//! certificates issued by the server's own CAs.
//!
//! The certificates are the server's inventory ([`crate::inventory`]): each
//! domain's leaf and the chain stored with it, each listener's certdir, and the
//! installation's default certificate, each listed once with the first that uses it.
//! `state` is `expired` after notAfter, `warning` within `[monitor] warn_days`, else
//! `ok` ([`certfleet_monitor::expiry::ExpiryState`]).

use crate::inventory;
use crate::state::AppState;
use certfleet_acme::schedule::reported_renew_at;
use certfleet_acme::state::{AcmeProgress, ProgressBook};
use certfleet_api::admin::status::{
    AcmeProgressJson, AlertCountsJson, CaRenewalJson, ChainRoleJson, ExpiryStateJson,
    StatusCertificateJson, StatusJson,
};
use certfleet_edge::alerts::AlertCounts;
use certfleet_monitor::expiry::ExpiryState;
use certfleet_monitor::inventory::{ChainRole, InventoryEntry};
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
pub async fn acme_domains(state: &AppState) -> Result<Vec<AcmeDomain>, StatusError> {
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
            .map_err(|err| StatusError(format!("ACME progress of {name}: {err}")))?;
        domains.push(AcmeDomain {
            name,
            renew_at,
            progress,
        });
    }
    Ok(domains)
}

/// The status could not be read (the store failed); the text says what was read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StatusError(pub String);

/// Every managed certificate, the ACME progress and the edge's alert counts.
pub async fn report(state: &AppState) -> Result<StatusJson, StatusError> {
    let inventory = inventory::collect(state).await;
    let at = |unix: Option<i64>| {
        unix.and_then(|u| OffsetDateTime::from_unix_timestamp(u).ok())
            .map(rfc3339)
    };
    let acme = acme_domains(state)
        .await?
        .into_iter()
        .map(|domain| AcmeProgressJson {
            domain: domain.name,
            renew_at: at(domain.renew_at),
            failures: domain.progress.failures,
            last_error: domain.progress.last_error,
            next_attempt: at(domain.progress.next_attempt_unix),
            last_success: at(domain.progress.last_success_unix),
        })
        .collect();
    let mut ca_renewals = Vec::new();
    for renewed in crate::cas::renewal::renewed_domains(state).await {
        let progress = crate::cas::renewal::progress(state.store.as_ref(), &renewed.domain)
            .await
            .map_err(StatusError)?;
        ca_renewals.push(CaRenewalJson {
            renew_at: at(reported_renew_at(&renewed.summary)),
            domain: renewed.domain,
            ca: renewed.issued.ca,
            failures: progress.failures,
            last_error: progress.last_error,
            next_attempt: at(progress.next_attempt_unix),
            last_success: at(progress.last_success_unix),
        });
    }
    Ok(StatusJson {
        ca_renewals,
        certificates: inventory
            .entries
            .into_iter()
            .map(certificate_json)
            .collect(),
        acme,
        alerts: alert_counts_json(state.hub.alerts().counts()),
        warn_days: Some(state.config.warn_days),
    })
}

/// An inventory entry as the API shows it.
fn certificate_json(entry: InventoryEntry) -> StatusCertificateJson {
    StatusCertificateJson {
        subject: entry.subject,
        issuer: entry.issuer,
        domain: entry.domain,
        used_by: entry.used_by,
        role: match entry.role {
            ChainRole::Leaf => ChainRoleJson::Leaf,
            ChainRole::Intermediate => ChainRoleJson::Intermediate,
            ChainRole::Root => ChainRoleJson::Root,
        },
        sha1_thumbprint: entry.sha1_thumbprint,
        not_after: entry.not_after,
        days_remaining: entry.days_remaining,
        state: match entry.state {
            ExpiryState::Ok => ExpiryStateJson::Ok,
            ExpiryState::Warning => ExpiryStateJson::Warning,
            ExpiryState::Expired => ExpiryStateJson::Expired,
        },
    }
}

/// The edge's alert counts as the API shows them.
pub fn alert_counts_json(counts: AlertCounts) -> AlertCountsJson {
    AlertCountsJson {
        expired: counts.expired,
        name_mismatch: counts.name_mismatch,
        certdir_reload_failed: counts.certdir_reload_failed,
        dropped: counts.dropped,
    }
}
