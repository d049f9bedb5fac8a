//! The audit log as the API and the web UI show it: a page of records, newest first.
//! Records never hold secrets (the store redacts key material before writing).

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
        .map(|r| AuditRecordJson {
            actor: r.actor,
            action: r.action,
            object: r.object,
            detail: r.detail,
            at: r.at,
        })
        .collect();
    Ok(AuditPageJson {
        total,
        offset,
        limit,
        records,
    })
}
