//! Issuing a domain's certificate from one of the server's CAs, for the administrator
//! (`POST /api/domains/{name}/certificate/issue`) and for the automatic renewal alike:
//! a fresh key of the asked type, a leaf for the domain's name signed under the CA's
//! policy, stored as the domain's certificate with the [`CaIssued`] header (so it shows
//! as automatic and is renewed), through the domain service (key sealed in the store,
//! audited, swapped into the hub so the edge serves it at once), and the CA's use
//! audited too. The key never leaves the server.

use super::issued_mark::CaIssued;
use super::view::repository;
use super::{choices, CaError};
use crate::domain_service::DomainError;
use crate::domain_views;
use crate::state::AppState;
use certfleet_api::admin::domains::DomainJson;
use certfleet_pki::certs::to_pem;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::issue::{issue_leaf_for_seconds, LeafRequest};
use std::fmt;
use zeroize::Zeroizing;

/// Seconds in a day.
pub const DAY_SECONDS: u32 = 86_400;

/// Why a certificate could not be issued for a domain.
#[derive(Debug)]
pub enum IssueError {
    /// The request is wrong or the CA's policy refuses it; the message names the field.
    Invalid(String),
    /// The CA could not be read (or is the server's reserved one).
    Ca(CaError),
    /// The domain refused the certificate, is unknown, or could not be saved.
    Domain(DomainError),
    /// Issuing failed inside the server.
    Internal(String),
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssueError::Invalid(message) | IssueError::Internal(message) => f.write_str(message),
            IssueError::Ca(err) => err.fmt(f),
            IssueError::Domain(err) => err.fmt(f),
        }
    }
}

impl From<DomainError> for IssueError {
    fn from(err: DomainError) -> Self {
        IssueError::Domain(err)
    }
}

/// Why the certificate is issued: what the domain service and the CA audit record say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueReason {
    /// An administrator asked (`domain.issue`, `ca.issue`).
    Asked,
    /// The automatic renewal of the certificate with this SHA-1 thumbprint
    /// (`domain.ca-renewed`, `ca.renew`); refused when the domain serves another one by
    /// then (an upload made meanwhile wins).
    Renewal(String),
}

/// Issues `domain`'s certificate as `issued` describes and stores it as `actor`; the
/// domain's view with its new certificate.
pub async fn issue_for_domain(
    state: &AppState,
    actor: &str,
    domain: &str,
    issued: &CaIssued,
    reason: IssueReason,
) -> Result<DomainJson, IssueError> {
    let repository = repository(state);
    let (info, authority) = repository
        .issuing_authority(&issued.ca)
        .await
        .map_err(|err| match err {
            CaError::BadName(message) => IssueError::Invalid(message.replacen("name:", "ca:", 1)),
            other => IssueError::Ca(other),
        })?
        .ok_or_else(|| IssueError::Invalid(format!("ca: no CA is named {}", issued.ca)))?;
    if let Some(max_days) = info.policy.max_days {
        if u64::from(issued.lifetime_seconds) > u64::from(max_days) * u64::from(DAY_SECONDS) {
            return Err(IssueError::Invalid(format!(
                "days: CA {} grants at most {max_days}",
                info.name
            )));
        }
    }
    let request = LeafRequest {
        cn: domain.to_owned(),
        dns_names: Vec::new(),
        ips: Vec::new(),
        usage: choices::usage(issued.usage),
        days: 1,
        key: choices::key_algorithm(issued.key),
    };
    let lifetime = issued.lifetime_seconds;
    let (leaf, authority) = tokio::task::spawn_blocking(move || {
        issue_leaf_for_seconds(&request, lifetime, &authority).map(|leaf| (leaf, authority))
    })
    .await
    .map_err(|err| IssueError::Internal(format!("issuing for {domain}: {err}")))?
    .map_err(|err| IssueError::Invalid(format!("name: {err}")))?;
    let chain = authority.issuing_chain();
    // The root is left out: clients trust it already, so the edge does not send it.
    let above = &chain[..chain.len().saturating_sub(1)];
    let mut pem = Zeroizing::new(format!("{}\n", issued.header()));
    pem.push_str(&leaf.key.to_pem());
    pem.push_str(&to_pem(std::slice::from_ref(&leaf.cert)));
    pem.push_str(&to_pem(above));

    let (domain_action, ca_action) = match reason {
        IssueReason::Asked => ("domain.issue", "ca.issue"),
        IssueReason::Renewal(_) => ("domain.ca-renewed", "ca.renew"),
    };
    let view = state
        .domains
        .change(
            actor,
            domain_action,
            |tree| {
                if let IssueReason::Renewal(replacing) = &reason {
                    let current = tree
                        .get(domain)
                        .and_then(|d| d.certificate())
                        .map(|c| c.served().summary().sha1_thumbprint.as_str());
                    if current != Some(replacing.as_str()) {
                        return Err(DomainError::Invalid(format!(
                            "domain {domain}: its certificate changed while it was renewed"
                        )));
                    }
                }
                tree.set_certificate(domain, &pem, false)?;
                Ok((domain.to_owned(), ()))
            },
            |tree, name, ()| domain_views::view(tree, name),
        )
        .await??;
    let thumbprint = sha1_thumbprint(&leaf.cert);
    let detail = format!("domain {domain} ({thumbprint})");
    repository
        .audit_use(&info.name, actor, ca_action, &detail)
        .await
        .map_err(IssueError::Ca)?;
    tracing::info!(
        "ca {}: {domain}: certificate {} (SHA-1 {thumbprint}, valid until {})",
        info.name,
        match reason {
            IssueReason::Asked => "issued",
            IssueReason::Renewal(_) => "renewed",
        },
        view.certificate
            .as_ref()
            .map_or("-", |cert| cert.not_after.as_str())
    );
    Ok(view)
}
