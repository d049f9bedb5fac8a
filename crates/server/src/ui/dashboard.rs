//! The expiry dashboard (`/ui/`): how many managed certificates are ok, in their
//! warning window or expired, the [`Timeline`] of their ends, the same certificates as a
//! table, and the ACME progress of domains with automatic issuance. The data is what
//! `GET /api/status` answers.

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
    /// Certificates in each state.
    pub ok: usize,
    /// In the warning window.
    pub warning: usize,
    /// Past their end.
    pub expired: usize,
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
            ok: count("ok"),
            warning: count("warning"),
            expired: count("expired"),
            warn_days,
            timeline: Timeline::build(entries, now, warn_days),
            certificates,
            acme,
            chrome: Chrome::new("Expiry dashboard", "dashboard", csrf),
        },
    )
}
