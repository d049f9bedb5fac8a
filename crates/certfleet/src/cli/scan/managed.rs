//! The running server's side of a scan: for each distinct SNI name, which certificate
//! the server manages (`GET /api/resolve/{name}`: a domain's or a certdir's; the
//! installation's default certificate counts as unmanaged), so that each result's
//! `drift` says whether the deployed leaf is the managed one; and the results recorded
//! with `POST /api/scans`. Without a server the scan goes on: one warning on standard
//! error, `drift` null everywhere, nothing recorded.

use super::super::client::{admin_client, path_segment, AdminClient, ServerFlags};
use certfleet_monitor::scan::record::ScanRecord;
use certfleet_monitor::scan::ScanResult;
use hyper::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Records sent per request, well below the API's body limit.
const RECORDS_PER_REQUEST: usize = 200;

/// Sets `drift` and `managed_sha1_thumbprint` on every result from the server's answers;
/// the client when the server answered (to record the results with), else `None` after
/// one warning.
pub fn compare(results: &mut [ScanResult], flags: &ServerFlags) -> Option<AdminClient> {
    let client = match admin_client(flags) {
        Ok(client) => client,
        Err(err) => {
            warn(&format!("{err:#}"));
            return None;
        }
    };
    let mut managed: BTreeMap<String, Option<String>> = BTreeMap::new();
    for result in results.iter().filter(|r| r.sha1_thumbprint.is_some()) {
        if let Some(sni) = &result.sni {
            managed.entry(sni.clone()).or_default();
        }
    }
    for (name, thumbprint) in managed.iter_mut() {
        let path = format!("/api/resolve/{}", path_segment(name));
        match client.get(&path) {
            Ok(answer) if answer.status == 401 || answer.status == 403 => {
                warn(&format!(
                    "the server refused the token: {}",
                    answer.error_message()
                ));
                return None;
            }
            Ok(answer) => *thumbprint = managed_thumbprint(answer.status, &answer.body),
            Err(err) => {
                warn(&format!("{err:#}"));
                return None;
            }
        }
    }
    for result in results.iter_mut() {
        let thumbprint = result
            .sni
            .as_ref()
            .and_then(|sni| managed.get(sni))
            .and_then(Option::as_deref);
        result.compare_with_managed(thumbprint);
    }
    Some(client)
}

/// The managed certificate's thumbprint from a resolve answer: only a domain's or a
/// certdir's certificate is managed for a name.
fn managed_thumbprint(status: u16, body: &Value) -> Option<String> {
    if !(200..300).contains(&status) {
        return None;
    }
    match body.get("source").and_then(Value::as_str) {
        Some("domain" | "certdir") => body
            .get("sha1_thumbprint")
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
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

fn warn(why: &str) {
    eprintln!(
        "warning: no running certfleet server to compare with (drift not checked, results not recorded): {why}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_domain_and_certdir_certificates_are_managed() {
        let answer = |source: &str| json!({"source": source, "sha1_thumbprint": "AB"});
        assert_eq!(
            managed_thumbprint(200, &answer("domain")),
            Some("AB".into())
        );
        assert_eq!(
            managed_thumbprint(200, &answer("certdir")),
            Some("AB".into())
        );
        assert_eq!(managed_thumbprint(200, &answer("default")), None);
        assert_eq!(managed_thumbprint(400, &answer("domain")), None);
    }
}
