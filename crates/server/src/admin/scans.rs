//! The scan endpoints: `POST /api/scans` records what `certfleet scan` found, one
//! [`ScanRecord`] per endpoint and SNI under `scans/<HOST:PORT>/<SNI>` in the store
//! (the record format and key are defined once, in `certfleet_monitor::scan::record`);
//! `GET /api/scans` answers the latest record of every scanned endpoint.
//!
//! A record older than the one stored for its key (by `scanned_at`) is left out, so a
//! late upload never hides a newer scan; writes are compare-and-swap, so two nodes
//! recording at once keep the newer record too. Every record of a request is checked
//! before any is written.

use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;
use certfleet_api::admin::scans::{ScansJson, ScansRecordedJson};
use certfleet_monitor::scan::record::{record_key, scans_prefix, ScanRecord};
use certfleet_store::{CasOutcome, Expect, Key, Storage};
use serde::Deserialize;
use std::sync::Arc;
use time::OffsetDateTime;

/// The most records one request may carry (`certfleet scan` sends 200 at a time).
const MAX_RECORDS: usize = 1000;

/// Compare-and-swap attempts per record before giving up on a busy key.
const CAS_ATTEMPTS: usize = 5;

/// `POST /api/scans`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordScans {
    /// The results of one scan: scan records as `GET /api/scans` answers them.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<ScanRecord>,
}

/// `POST /api/scans`: stores each record unless a newer one is stored for its key;
/// answers how many were recorded and how many were older than what is stored.
#[utoipa::path(post, path = "/api/scans", tag = "scans", request_body = RecordScans,
    responses(
        (status = 200, description = "Recorded", body = ScansRecordedJson),
        (status = 400, description = "Bad input; the message names the record and field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 409, description = "The record kept changing while it was written", body = ErrorBody),
    )
)]
pub async fn record(
    State(state): State<Arc<AppState>>,
    body: Result<Json<RecordScans>, JsonRejection>,
) -> Result<Json<ScansRecordedJson>, ApiError> {
    let Json(body) = body?;
    if body.records.len() > MAX_RECORDS {
        return Err(ApiError::bad_request(format!(
            "records: {} records in one request; send at most {MAX_RECORDS}",
            body.records.len()
        )));
    }
    let mut checked = Vec::with_capacity(body.records.len());
    for (index, record) in body.records.iter().enumerate() {
        let bad =
            |err: &dyn std::fmt::Display| ApiError::bad_request(format!("records[{index}]: {err}"));
        let target = record.check().map_err(|err| bad(&err))?;
        let key = record_key(&target).map_err(|err| bad(&err))?;
        let at = record.scanned_time().unwrap_or(OffsetDateTime::UNIX_EPOCH);
        // Target, endpoint and SNI as the key has them, whatever the client wrote.
        let mut stored = record.clone();
        stored.target = target.to_string();
        stored.endpoint = target.endpoint();
        stored.sni = target.sni().map(str::to_owned);
        let value = serde_json::to_vec(&stored).map_err(ApiError::internal)?;
        checked.push((key, at, value));
    }
    let mut recorded = 0usize;
    let mut stale = 0usize;
    for (key, at, value) in checked {
        if store_if_newer(state.store.as_ref(), &key, at, &value).await? {
            recorded += 1;
        } else {
            stale += 1;
        }
    }
    Ok(Json(ScansRecordedJson { recorded, stale }))
}

/// Writes `value` at `key` unless the record there was scanned after `at`; true when
/// written.
async fn store_if_newer(
    store: &dyn Storage,
    key: &Key,
    at: OffsetDateTime,
    value: &[u8],
) -> Result<bool, ApiError> {
    let store_error = |err: certfleet_store::StoreError| {
        ApiError::internal(format!("recording the scan of {key}: {err}"))
    };
    let mut current = store.get(key).await.map_err(store_error)?;
    for _ in 0..CAS_ATTEMPTS {
        let expect = match &current {
            None => Expect::Absent,
            Some(entry) => {
                let stored_at = serde_json::from_slice::<ScanRecord>(&entry.value)
                    .ok()
                    .and_then(|stored| stored.scanned_time());
                if stored_at.is_some_and(|stored_at| stored_at > at) {
                    return Ok(false);
                }
                Expect::Revision(entry.revision)
            }
        };
        match store
            .compare_and_swap(key, expect, value)
            .await
            .map_err(store_error)?
        {
            CasOutcome::Swapped(_) => return Ok(true),
            CasOutcome::Conflict(now) => current = now,
        }
    }
    Err(ApiError::conflict(format!(
        "{key}: changed by others {CAS_ATTEMPTS} times while recording; send it again"
    )))
}

/// `GET /api/scans`: `{"scans": [...]}`, the latest record of every scanned endpoint and
/// SNI, ordered by key.
#[utoipa::path(get, path = "/api/scans", tag = "scans",
    responses(
        (status = 200, description = "The latest record of every scanned endpoint", body = ScansJson),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<ScansJson>, ApiError> {
    let prefix = scans_prefix().map_err(ApiError::internal)?;
    let entries = state
        .store
        .list(&prefix)
        .await
        .map_err(|err| ApiError::internal(format!("listing scans: {err}")))?;
    let mut scans = Vec::with_capacity(entries.len());
    for entry in entries {
        match serde_json::from_slice::<ScanRecord>(&entry.value).and_then(serde_json::to_value) {
            Ok(record) => scans.push(record),
            // Not written by this endpoint; say so in the log rather than fail the list.
            Err(err) => {
                tracing::error!("GET /api/scans: {} is not a scan record: {err}", entry.key)
            }
        }
    }
    Ok(Json(ScansJson { scans }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use certfleet_store::memory::MemoryStore;
    use serde_json::{json, Value};

    fn record_at(target: &str, at: &str, thumbprint: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "target": target, "scanned_at": at, "reachable": true,
            "sha1_thumbprint": thumbprint,
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn records_are_checked_stored_and_listed_through_the_api() {
        use axum::body::Body;
        use axum::http::{Method, Request, StatusCode};
        use http_body_util::BodyExt;
        use tower::ServiceExt;

        let dir = tempfile::tempdir().unwrap();
        let config = certfleet_config::load(None, Some(dir.path())).unwrap();
        let started = crate::startup::start(config).await.unwrap();
        let token = started.state.admin_token.to_string();
        let app = crate::http::router(started.state.clone());
        let call = |method: Method, body: Option<Value>| {
            let app = app.clone();
            let token = token.clone();
            async move {
                let mut request = Request::builder()
                    .method(method)
                    .uri("/api/scans")
                    .header("authorization", format!("Bearer {token}"));
                let body = match body {
                    Some(value) => {
                        request = request.header("content-type", "application/json");
                        Body::from(value.to_string())
                    }
                    None => Body::empty(),
                };
                let response = app.oneshot(request.body(body).unwrap()).await.unwrap();
                let status = response.status();
                let bytes = response.into_body().collect().await.unwrap().to_bytes();
                (status, serde_json::from_slice::<Value>(&bytes).unwrap())
            }
        };
        let good = json!({"target": "A.test:443", "endpoint": "x", "scanned_at":
            "2026-01-02T00:00:00Z", "reachable": false, "error": "connection refused"});
        let bad = json!({"target": "no port", "scanned_at": "2026-01-02T00:00:00Z",
            "reachable": false});
        let (status, body) = call(Method::POST, Some(json!({"records": [good, bad]}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("records[1]: target 'no port'"),
            "{body}"
        );
        let (status, body) = call(Method::GET, None).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, json!({"scans": []})),
            "nothing half-written"
        );

        let (status, body) = call(Method::POST, Some(json!({"records": [good]}))).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, json!({"recorded": 1, "stale": 0}))
        );
        let (status, body) = call(Method::GET, None).await;
        assert_eq!(status, StatusCode::OK);
        let scans = body["scans"].as_array().unwrap();
        assert_eq!(scans.len(), 1, "{body}");
        assert_eq!(scans[0]["target"], "a.test:443", "{body}");
        assert_eq!(scans[0]["endpoint"], "a.test:443", "{body}");
        assert_eq!(scans[0]["sni"], "a.test", "{body}");
        assert_eq!(scans[0]["error"], "connection refused", "{body}");
    }

    #[tokio::test]
    async fn a_newer_record_replaces_an_older_one_and_never_the_reverse() {
        let store = MemoryStore::new();
        let target = certfleet_monitor::scan::Target::parse("a.test:443").unwrap();
        let key = record_key(&target).unwrap();
        let t = |s: &str| {
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
        };
        let first = record_at("a.test:443", "2026-01-02T00:00:00Z", &"A".repeat(40));
        assert!(
            store_if_newer(&store, &key, t("2026-01-02T00:00:00Z"), &first)
                .await
                .unwrap()
        );
        let older = record_at("a.test:443", "2026-01-01T00:00:00Z", &"B".repeat(40));
        assert!(
            !store_if_newer(&store, &key, t("2026-01-01T00:00:00Z"), &older)
                .await
                .unwrap()
        );
        let newer = record_at("a.test:443", "2026-01-03T00:00:00Z", &"C".repeat(40));
        assert!(
            store_if_newer(&store, &key, t("2026-01-03T00:00:00Z"), &newer)
                .await
                .unwrap()
        );
        let stored = store.get(&key).await.unwrap().unwrap();
        assert_eq!(stored.value, newer);
    }
}
