//! The expiry dashboard (`/ui/`): tiles counting the domains whose served certificate
//! is ok, in its warning window, expired or not covering the name, each a link to the
//! domain list filtered so; the [`Timeline`] of the next 90 days; the managed
//! certificates as a table, soonest end first (the first [`TABLE_ROWS`]); and the ACME
//! progress of domains with automatic issuance. The certificates are what
//! `GET /api/status` answers.

use super::domain_facts::{self, StateCounts};
use super::page::{html, message, Chrome, UiSession};
use super::timeline::{Entry, Timeline};
use crate::state::AppState;
use crate::status_report;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The most certificates the table lists; the rest are counted.
pub const TABLE_ROWS: usize = 100;

/// One managed certificate's table row.
pub struct CertRow {
    /// Its subject.
    pub subject: String,
    /// What uses it (`domain NAME`, `certdir ROLE`, `default`).
    pub used_by: String,
    /// `leaf`, `intermediate` or `root`.
    pub role: String,
    /// The domain, when a domain uses it (for a link).
    pub domain: Option<String>,
    /// The end of validity, RFC 3339.
    pub not_after: String,
    /// Days left.
    pub days_remaining: i64,
    /// `ok`, `warning` or `expired`.
    pub state: String,
}

/// One ACME domain's progress.
pub struct AcmeRow {
    /// The domain.
    pub domain: String,
    /// When renewal is due, if known.
    pub renew_at: String,
    /// Failed attempts in a row.
    pub failures: u64,
    /// The last failure.
    pub last_error: String,
}

/// The dashboard page.
#[derive(Template)]
#[template(path = "ui/dashboard.html")]
pub struct DashboardPage {
    /// The frame.
    pub chrome: Chrome,
    /// Domains in each state, as the domain list's filter counts them.
    pub domains: StateCounts,
    /// How many domains there are.
    pub domain_total: usize,
    /// Certificates in each state.
    pub ok: usize,
    /// In the warning window.
    pub warning: usize,
    /// Past their end.
    pub expired: usize,
    /// Managed certificates beyond the table's first [`TABLE_ROWS`].
    pub more: usize,
    /// The warning window, in days.
    pub warn_days: i64,
    /// The timeline.
    pub timeline: Timeline,
    /// The certificates, soonest end first.
    pub certificates: Vec<CertRow>,
    /// ACME progress.
    pub acme: Vec<AcmeRow>,
}

/// `GET /ui/`.
pub async fn page(State(state): State<Arc<AppState>>, UiSession(csrf): UiSession) -> Response {
    let report = match status_report::report(&state).await {
        Ok(report) => report,
        Err(err) => {
            tracing::error!("the dashboard: {err}");
            return message(
                StatusCode::INTERNAL_SERVER_ERROR,
                csrf,
                "Status unavailable",
                "The server could not read the status; its log says why.",
            );
        }
    };
    let now = OffsetDateTime::now_utc();
    let warn_days = i64::from(state.config.warn_days);
    let mut certificates: Vec<CertRow> = report
        .certificates
        .into_iter()
        .map(|c| CertRow {
            subject: c.subject,
            used_by: c.used_by,
            role: c.role.as_str().to_owned(),
            domain: c.domain,
            not_after: c.not_after,
            days_remaining: c.days_remaining,
            state: c.state.as_str().to_owned(),
        })
        .collect();
    certificates.sort_by(|a, b| a.not_after.cmp(&b.not_after));
    let count = |state: &str| certificates.iter().filter(|c| c.state == state).count();
    let entries = certificates
        .iter()
        .filter_map(|c| {
            Some(Entry {
                label: format!("{} ({}, {})", c.subject, c.role, c.used_by),
                not_after: OffsetDateTime::parse(&c.not_after, &Rfc3339).ok()?,
                state: c.state.clone(),
                days_remaining: c.days_remaining,
            })
        })
        .collect();
    let (domains, domain_total) = state
        .domains
        .read(|tree| {
            let facts = domain_facts::collect(&state, tree);
            (StateCounts::of(&facts), facts.len())
        })
        .await;
    let ok = count("ok");
    let warning = count("warning");
    let expired = count("expired");
    let timeline = Timeline::build(entries, now, warn_days);
    let more = certificates.len().saturating_sub(TABLE_ROWS);
    certificates.truncate(TABLE_ROWS);
    let acme = report
        .acme
        .into_iter()
        .map(|a| AcmeRow {
            domain: a.domain,
            renew_at: a.renew_at.unwrap_or_default(),
            failures: u64::from(a.failures),
            last_error: a.last_error.unwrap_or_default(),
        })
        .collect();
    html(
        StatusCode::OK,
        &DashboardPage {
            domains,
            domain_total,
            ok,
            warning,
            expired,
            more,
            warn_days,
            timeline,
            certificates,
            acme,
            chrome: Chrome::new("Expiry dashboard", "dashboard", csrf),
        },
    )
}
