//! What the renewal loop needs from whoever holds the domains, as a trait
//! ([`RenewalTarget`]): the ACME domains with the certificate each serves, a way to store
//! an issued certificate in a domain, and where to raise a failed attempt.

use crate::order::Issued;
use certfleet_edge::certificate::CertificateSummary;
use std::future::Future;

/// One domain with ACME on, as the renewal loop sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeDomain {
    /// The domain's name.
    pub name: String,
    /// The contact address its account is registered with; no order without one.
    pub email: Option<String>,
    /// The summary of the certificate it serves, if it has one.
    pub certificate: Option<CertificateSummary>,
}

/// Why an issued certificate could not be stored in its domain.
#[derive(Debug, thiserror::Error)]
pub enum StoreIssuedError {
    /// The domain refused the certificate (it does not load or does not fit the domain).
    #[error("the issued certificate was refused: {0}")]
    Refused(String),
    /// Saving it failed (the store, or the domain went away meanwhile).
    #[error("storing the issued certificate: {0}")]
    Failed(String),
}

/// The domains the renewal loop orders certificates for.
pub trait RenewalTarget: Send + Sync + 'static {
    /// Every domain with ACME on, read consistently.
    fn acme_domains(&self) -> impl Future<Output = Vec<AcmeDomain>> + Send;

    /// Stores `issued` as the certificate of `name`, marked as automatically issued and
    /// served at once; gives the summary of the certificate now served.
    fn store_issued(
        &self,
        name: &str,
        issued: &Issued,
    ) -> impl Future<Output = Result<CertificateSummary, StoreIssuedError>> + Send;

    /// Raises a failed attempt for `name` (the message says why and when the next
    /// attempt comes); it is already recorded in the domain's progress.
    fn attempt_failed(&self, name: &str, message: String);
}
