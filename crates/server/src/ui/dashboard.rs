//! The expiry dashboard (`/ui/`): how many managed certificates are ok, in their
//! warning window or expired, the [`Timeline`] of their ends, the same certificates as a
//! table, and the ACME progress of domains with automatic issuance. The data is what
//! `GET /api/status` answers.

use super::page::{html, message, Chrome, UiSession};
use super::timeline::{Entry, Timeline};
use crate::admin::status;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
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

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

/// `GET /ui/`.
pub async fn page(State(state): State<Arc<AppState>>, UiSession(csrf): UiSession) -> Response {
    let report = match status::status(State(Arc::clone(&state))).await {
        Ok(axum::Json(report)) => report,
        Err(err) => {
            return message(
                StatusCode::INTERNAL_SERVER_ERROR,
                csrf,
                "Status unavailable",
                err.message(),
            )
        }
    };
    let now = OffsetDateTime::now_utc();
    let warn_days = i64::from(state.config.warn_days);
    let mut certificates: Vec<CertRow> = report["certificates"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|c| CertRow {
            subject: text(c, "subject"),
            used_by: text(c, "used_by"),
            role: text(c, "role"),
            domain: c["domain"].as_str().map(str::to_owned),
            not_after: text(c, "not_after"),
            days_remaining: c["days_remaining"].as_i64().unwrap_or_default(),
            state: text(c, "state"),
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
    let acme = report["acme"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|a| AcmeRow {
            domain: text(a, "domain"),
            renew_at: text(a, "renew_at"),
            failures: a["failures"].as_u64().unwrap_or_default(),
            last_error: text(a, "last_error"),
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
