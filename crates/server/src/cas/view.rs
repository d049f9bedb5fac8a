//! The server's CAs as the API and the web UI show them: names, subjects, thumbprints,
//! key algorithm and signing rules, never a key.

use super::{CaError, CaInfo, CaRepository};
use crate::state::AppState;
use certfleet_api::admin::cas::{CaJson, PolicyJson};
use certfleet_pki::inspect::{describe_certificate, fingerprint::sha1_thumbprint};
use std::sync::Arc;

/// The repository of `state`'s store, opened with its master key.
pub fn repository(state: &AppState) -> CaRepository {
    CaRepository::new(Arc::clone(&state.store), Arc::clone(&state.master_key))
}

/// Every CA, ordered by name, as the API shows it.
pub async fn list(state: &AppState) -> Result<Vec<CaJson>, CaError> {
    repository(state)
        .list()
        .await?
        .iter()
        .map(ca_json)
        .collect()
}

/// Describes `info` as the API shows a CA.
pub fn ca_json(info: &CaInfo) -> Result<CaJson, CaError> {
    let issuing = describe_certificate(info.issuing(), time::OffsetDateTime::now_utc())
        .map_err(|err| CaError::Store(format!("CA {}: {err}", info.name)))?;
    Ok(CaJson {
        name: info.name.clone(),
        subject: issuing.subject,
        issuer: issuing.issuer,
        not_after: issuing.not_after,
        root_sha1_thumbprint: sha1_thumbprint(&info.root),
        intermediate_sha1_thumbprint: info.intermediate.as_deref().map(sha1_thumbprint),
        key_algorithm: info.key_algorithm.clone(),
        policy: PolicyJson {
            allowed_domains: info.policy.allowed_domains.clone(),
            max_days: info.policy.max_days,
        },
        created_at: info.created_at.clone(),
    })
}
