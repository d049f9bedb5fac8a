//! A domain as `domain show --json` and `domain list --json` print it: `name`, `parent`,
//! `certificate` (null or its summary), `acme`, and the domain whose certificate an
//! exact-name handshake gets (`effective_domain`, for the tree view of the web UI).

use super::{Domain, DomainTree};
use crate::certificate::CertificateSummary;
use serde::Serialize;

/// The JSON object of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainView {
    /// The domain's name.
    pub name: String,
    /// The parent's name; null for the master.
    pub parent: Option<String>,
    /// The domain's own certificate, or null.
    pub certificate: Option<CertificateSummary>,
    /// ACME settings (the ACME side adds `renew_at`).
    pub acme: AcmeView,
    /// The domain whose certificate a handshake naming this domain gets: itself, an
    /// ancestor, or null when none up to the master has one.
    pub effective_domain: Option<String>,
}

/// The `acme` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcmeView {
    /// Automatic issuance is on.
    pub enabled: bool,
    /// The ACME account's contact address.
    pub email: Option<String>,
}

impl DomainTree {
    /// The JSON view of one domain.
    pub fn view(&self, domain: &Domain) -> DomainView {
        DomainView {
            name: domain.name.clone(),
            parent: domain.parent.clone(),
            certificate: domain
                .certificate
                .as_ref()
                .map(|c| c.served().summary().clone()),
            acme: AcmeView {
                enabled: domain.acme.enabled,
                email: domain.acme.email.clone(),
            },
            effective_domain: self
                .effective_certificate(&domain.name)
                .map(|d| d.name.clone()),
        }
    }

    /// The JSON view of every domain, ordered by name.
    pub fn views(&self) -> Vec<DomainView> {
        self.iter().map(|d| self.view(d)).collect()
    }
}
