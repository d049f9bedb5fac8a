//! The audit log page (`/ui/audit?page=N`): who changed what and when, newest first,
//! fifty records a page, read like `GET /api/audit`.

use super::page::{html, message, Chrome, UiSession};
use crate::audit_log;
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use certfleet_api::admin::audit::AuditRecordJson;
use std::sync::Arc;

/// Records a page.
const PER_PAGE: usize = 50;

/// The audit page.
#[derive(Template)]
#[template(path = "ui/audit.html")]
pub struct AuditPage {
    /// The frame.
    pub chrome: Chrome,
    /// This page's records, newest first.
    pub records: Vec<AuditRecordJson>,
    /// This page's number, from 1.
    pub page: usize,
    /// How many pages there are (at least 1).
    pub pages: usize,
    /// How many records there are.
    pub total: usize,
}

/// The `page` number of a query string; 1 when absent or not a number.
fn page_number(query: Option<&str>) -> usize {
    query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("page="))
        .find_map(|n| n.parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

/// `GET /ui/audit`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    UiSession(csrf): UiSession,
    RawQuery(query): RawQuery,
) -> Response {
    let page = page_number(query.as_deref());
    let offset = (page - 1).saturating_mul(PER_PAGE);
    match audit_log::page(&state, offset, PER_PAGE).await {
        Ok(found) => html(
            StatusCode::OK,
            &AuditPage {
                chrome: Chrome::new("Audit log", "audit", csrf),
                pages: found.total.div_ceil(PER_PAGE).max(1),
                total: found.total,
                records: found.records,
                page,
            },
        ),
        Err(err) => {
            tracing::error!("the audit log page: reading the audit log: {err}");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                csrf,
                "Audit log unavailable",
                "The server could not read the audit log; its log says why.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::page_number;

    #[test]
    fn page_numbers_default_to_one() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("page=3")), 3);
        assert_eq!(page_number(Some("x=1&page=0")), 1);
        assert_eq!(page_number(Some("page=abc")), 1);
    }
}
