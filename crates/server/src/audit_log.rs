//! The audit log as the API and the web UI show it: a page of records, newest first,
//! and what one of the server's CAs signed and issued. Records never hold secrets (the
//! store redacts key material before writing).

use crate::state::AppState;
use certfleet_api::admin::audit::{AuditPageJson, AuditRecordJson};
use certfleet_store::StoreError;

/// A page of the audit log, newest first: the records after the `offset` newest, at
/// most `limit` of them.
pub async fn page(
    state: &AppState,
    offset: usize,
    limit: usize,
) -> Result<AuditPageJson, StoreError> {
    let all = certfleet_store::audit::list(state.store.as_ref()).await?;
    let total = all.len();
    let records = all
        .into_iter()
        .rev()
        .skip(offset)
        .take(limit)
        .map(record_json)
        .collect();
    Ok(AuditPageJson {
        total,
        offset,
        limit,
        records,
    })
}

/// The actions that record a certificate a CA signed or issued.
const CA_USES: [&str; 3] = ["ca.sign", "ca.issue", "ca.renew"];

/// What CA `ca` signed and issued, newest first.
pub async fn ca_uses(state: &AppState, ca: &str) -> Result<Vec<AuditRecordJson>, StoreError> {
    let object = format!("ca {ca}");
    let all = certfleet_store::audit::list(state.store.as_ref()).await?;
    Ok(all
        .into_iter()
        .rev()
        .filter(|r| r.object == object && CA_USES.contains(&r.action.as_str()))
        .map(record_json)
        .collect())
}

fn record_json(r: certfleet_store::audit::AuditRecord) -> AuditRecordJson {
    AuditRecordJson {
        actor: r.actor,
        action: r.action,
        object: r.object,
        detail: r.detail,
        at: r.at,
    }
}
