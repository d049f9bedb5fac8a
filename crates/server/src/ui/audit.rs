//! The audit log page (`/ui/audit?page=N`): who changed what and when, newest first,
//! fifty records a page, read like `GET /api/audit`. A change of a domain's certificate
//! (set by hand, issued by a CA, renewed through ACME or by a CA) shows its old and new
//! thumbprints side by side.

use super::page::{html, message, Chrome, UiSession};
use crate::audit_log;
use crate::domain_service::CERTIFICATE_CHANGE;
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use certfleet_api::admin::audit::AuditRecordJson;
use std::sync::Arc;

/// Records a page.
const PER_PAGE: usize = 50;

/// One record as the page shows it.
pub struct AuditRow {
    /// The record.
    pub record: AuditRecordJson,
    /// For a certificate change: the old thumbprint (or `none`) and the new one.
    pub thumbprints: Option<(String, String)>,
}

/// The old and new thumbprints of a certificate change's detail.
fn thumbprints(detail: Option<&str>) -> Option<(String, String)> {
    let (old, new) = detail?
        .strip_prefix(CERTIFICATE_CHANGE)?
        .split_once(" -> ")?;
    Some((old.to_owned(), new.to_owned()))
}

/// The audit page.
#[derive(Template)]
#[template(path = "ui/audit.html")]
pub struct AuditPage {
    /// The frame.
    pub chrome: Chrome,
    /// This page's records, newest first.
    pub records: Vec<AuditRow>,
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
                records: found
                    .records
                    .into_iter()
                    .map(|record| AuditRow {
                        thumbprints: thumbprints(record.detail.as_deref()),
                        record,
                    })
                    .collect(),
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
    use super::{page_number, thumbprints};

    #[test]
    fn a_certificate_change_reads_as_old_and_new() {
        assert_eq!(
            thumbprints(Some("certificate sha1 none -> AB12")),
            Some(("none".into(), "AB12".into()))
        );
        assert_eq!(thumbprints(Some("parent a -> b")), None);
        assert_eq!(thumbprints(None), None);
    }

    #[test]
    fn page_numbers_default_to_one() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("page=3")), 3);
        assert_eq!(page_number(Some("x=1&page=0")), 1);
        assert_eq!(page_number(Some("page=abc")), 1);
    }
}
