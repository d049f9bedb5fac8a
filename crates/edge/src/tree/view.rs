//! A domain as `domain show --json` and `domain list --json` print it: `name`, `parent`,
//! `certificate` (null or its summary), `certificate_error` (only when its stored key
//! could not be loaded), `acme`, and the domain whose certificate an
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
    /// Why the domain's stored certificate is not served (its private key could not be
    /// loaded when a handshake first needed it); absent while it is served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_error: Option<String>,
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
            certificate_error: domain
                .certificate
                .as_ref()
                .and_then(|c| c.served().load_error())
                .map(str::to_owned),
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
