//! The running server's side of a scan: its `warn_days` (`GET /api/status`) as the
//! scan's default, which certificate it manages for each SNI name (`GET
//! /api/resolve/{name}`, judged by `certfleet_monitor::scan::drift`), and the results
//! recorded with `POST /api/scans` (the calls are certfleet-api's `client_scans`).
//! Without a server the scan goes on: one warning on standard error, `drift` null
//! everywhere, nothing recorded.

use super::super::client::{admin_client, AdminClient, ServerFlags};
use certfleet_monitor::scan::drift::{compare_with_server, managed_thumbprint};
use certfleet_monitor::scan::record::ScanRecord;
use certfleet_monitor::scan::ScanResult;
use time::OffsetDateTime;

/// The server's `[monitor] warn_days`, when it answers (a failure is told later, by
/// [`compare`]).
pub fn server_warn_days(flags: &ServerFlags) -> Option<u32> {
    admin_client(flags).ok()?.warn_days()
}

/// Sets `drift` and `managed_sha1_thumbprint` on every result from the server's answers;
/// the client when the server answered (to record the results with), else `None` after
/// one warning.
pub fn compare(results: &mut [ScanResult], flags: &ServerFlags) -> Option<AdminClient> {
    let compared = admin_client(flags).and_then(|client| {
        compare_with_server(results, |name| {
            let (status, body) = client.resolution(name)?;
            Ok(managed_thumbprint(status, &body))
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
    if let Err(err) = client.record_scans(&records) {
        eprintln!("warning: the scan results were not recorded in the server: {err:#}");
    }
}
