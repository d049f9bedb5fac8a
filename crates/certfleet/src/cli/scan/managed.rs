//! The running server's side of a scan: its `warn_days` (`GET /api/status`) as the
//! scan's default, which certificate it manages for each SNI name (`GET
//! /api/resolve/{name}`, judged by `certfleet_monitor::scan::drift`), and the results
//! recorded with `POST /api/scans`. Without a server the scan goes on: one warning on
//! standard error, `drift` null everywhere, nothing recorded.

use super::super::client::{admin_client, path_segment, AdminClient, ServerFlags};
use certfleet_monitor::scan::drift::{compare_with_server, managed_thumbprint};
use certfleet_monitor::scan::record::ScanRecord;
use certfleet_monitor::scan::ScanResult;
use hyper::Method;
use serde_json::json;
use time::OffsetDateTime;

/// Records sent per request, well below the API's body limit.
const RECORDS_PER_REQUEST: usize = 200;

/// The server's `[monitor] warn_days`, when it answers (a failure is told later, by
/// [`compare`]).
pub fn server_warn_days(flags: &ServerFlags) -> Option<u32> {
    let answer = admin_client(flags).ok()?.get("/api/status").ok()?;
    let body = answer.into_success().ok()?;
    body["warn_days"]
        .as_u64()
        .and_then(|d| u32::try_from(d).ok())
}

/// Sets `drift` and `managed_sha1_thumbprint` on every result from the server's answers;
/// the client when the server answered (to record the results with), else `None` after
/// one warning.
pub fn compare(results: &mut [ScanResult], flags: &ServerFlags) -> Option<AdminClient> {
    let compared = admin_client(flags).and_then(|client| {
        compare_with_server(results, |name| {
            let answer = client.get(&format!("/api/resolve/{}", path_segment(name)))?;
            if answer.status == 401 || answer.status == 403 {
                anyhow::bail!("the server refused the token: {}", answer.error_message());
            }
            Ok(managed_thumbprint(answer.status, &answer.body))
        })
        .map(|()| client)
    });
    compared
        .map_err(|err| {
            eprintln!(
                "warning: no running certfleet server to compare with (drift not checked, results not recorded): {err:#}"
            );
        })
        .ok()
}

/// Sends the results to `POST /api/scans`; a failure is a warning.
pub fn record(client: &AdminClient, results: &[ScanResult]) {
    let now = OffsetDateTime::now_utc();
    let records: Vec<ScanRecord> = results
        .iter()
        .map(|result| ScanRecord::from_result(result, now))
        .collect();
    for chunk in records.chunks(RECORDS_PER_REQUEST) {
        let sent = client
            .send(
                Method::POST,
                "/api/scans",
                Some(&json!({ "records": chunk })),
            )
            .and_then(|answer| answer.into_success());
        if let Err(err) = sent {
            eprintln!("warning: the scan results were not recorded in the server: {err:#}");
            return;
        }
    }
}
