//! The answers about domains, built once for the admin API and the web UI: a domain's
//! view ([`DomainJson`]) with its certificate's summary, ACME settings, renewal time and
//! the ACME progress kept in the store, and which certificate a handshake gets.

use crate::cas::issued_mark::CaIssued;
use crate::domain_service::DomainError;
use crate::state::AppState;
use certfleet_acme::schedule::reported_renew_at;
use certfleet_acme::state::ProgressBook;
use certfleet_api::admin::domains::{
    AcmeJson, CertificateJson, DomainJson, ResolutionJson, SourceJson,
};
use certfleet_edge::resolver::{Resolution, Source};
use certfleet_edge::tree::DomainTree;

/// The view of domain `name` in `tree`: the tree's view with `acme.renew_at` (RFC 3339,
/// null unless the certificate was issued automatically) and the server CA that renews
/// it (`certificate.issuing_ca`, with ACME off). The ACME progress is added by
/// [`with_progress`].
pub fn view(tree: &DomainTree, name: &str) -> Result<DomainJson, DomainError> {
    let domain = tree
        .get(name)
        .ok_or_else(|| DomainError::NotFound(name.to_owned()))?;
    let view = tree.view(domain);
    let renew_at = domain
        .certificate()
        .and_then(|c| reported_renew_at(c.served().summary()))
        .and_then(rfc3339);
    let issuing_ca = domain
        .certificate()
        .filter(|_| !domain.acme().enabled)
        .and_then(|c| CaIssued::read(c.pem()))
        .map(|issued| issued.ca);
    Ok(DomainJson {
        name: view.name,
        parent: view.parent,
        certificate: view.certificate.map(|summary| CertificateJson {
            sha1_thumbprint: summary.sha1_thumbprint,
            not_after: summary.not_after,
            sans: summary.sans,
            auto_issued: summary.auto_issued,
            issuing_ca,
            load_error: view.certificate_error,
        }),
        acme: AcmeJson {
            enabled: view.acme.enabled,
            email: view.acme.email,
            renew_at,
            ..AcmeJson::default()
        },
        effective_domain: view.effective_domain,
    })
}

/// Adds the ACME progress kept in the store (`failures`, `last_error`, `next_attempt`,
/// `last_success`) to the view of a domain with ACME on.
pub async fn with_progress(
    state: &AppState,
    mut view: DomainJson,
) -> Result<DomainJson, DomainError> {
    if !view.acme.enabled {
        return Ok(view);
    }
    let progress = ProgressBook::new(state.store.as_ref())
        .get(&view.name)
        .await
        .map_err(|err| DomainError::Storage(format!("ACME progress of {}: {err}", view.name)))?;
    view.acme.failures = Some(progress.failures);
    view.acme.last_error = Some(progress.last_error);
    view.acme.next_attempt = Some(progress.next_attempt_unix.and_then(rfc3339));
    view.acme.last_success = Some(progress.last_success_unix.and_then(rfc3339));
    Ok(view)
}

/// Domain `name`'s view with its ACME progress.
pub async fn show(state: &AppState, name: &str) -> Result<DomainJson, DomainError> {
    let view = state.domains.read(|tree| view(tree, name)).await?;
    with_progress(state, view).await
}

/// Every domain's view with its ACME progress, ordered by name.
pub async fn list(state: &AppState) -> Result<Vec<DomainJson>, DomainError> {
    let views = state
        .domains
        .read(|tree| {
            tree.iter()
                .map(|domain| view(tree, domain.name()))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let mut answered = Vec::with_capacity(views.len());
    for one in views {
        answered.push(with_progress(state, one).await?);
    }
    Ok(answered)
}

/// Which certificate a handshake naming `name` on a listener of `role` gets, and why.
pub fn resolution(resolution: Resolution) -> ResolutionJson {
    ResolutionJson {
        sni: resolution.sni,
        role: resolution.role,
        source: match resolution.source {
            Source::Domain => SourceJson::Domain,
            Source::Certdir => SourceJson::Certdir,
            Source::Default => SourceJson::Default,
        },
        domain: resolution.domain,
        sha1_thumbprint: resolution.sha1_thumbprint,
        not_after: resolution.not_after,
        reason: resolution.reason,
        expired: resolution.expired,
        name_mismatch: resolution.name_mismatch,
    }
}

/// Unix seconds as RFC 3339.
pub fn rfc3339(unix: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}
