//! The server's side of ACME renewal: the loop, the schedule and the orders are
//! certfleet-acme's ([`certfleet_acme::renewal`]); here the server lends it its domains.
//!
//! - [`DomainTarget`]: the [`RenewalTarget`] over the domain service (the ACME domains
//!   read through `domains.read`, an issued certificate stored through
//!   `domains.change`, a failure raised on the alert board as `acme_failed`);
//! - [`run`]: starts the renewal loop with the server's store, challenges and settings;
//! - [`AlpnAnswers`]: the pending TLS-ALPN-01 certificates for the handshake path.

use super::domain_service::DomainError;
use super::state::AppState;
use certfleet_acme::account::ACTOR;
use certfleet_acme::challenges::Challenges;
use certfleet_acme::order::Issued;
use certfleet_acme::renewal::{
    AcmeDomain, AcmeService, RenewalLoop, RenewalTarget, StoreIssuedError,
};
use certfleet_edge::certificate::{CertificateSummary, AUTO_ISSUED_HEADER};
use certfleet_edge::sni::ChallengeCertificates;
use certfleet_monitor::alerts::AlertKind;
use rustls::sign::CertifiedKey;
use std::sync::Arc;

/// The server's domains as the renewal loop sees them.
pub struct DomainTarget(pub Arc<AppState>);

impl RenewalTarget for DomainTarget {
    async fn acme_domains(&self) -> Vec<AcmeDomain> {
        self.0
            .domains
            .read(|tree| {
                tree.iter()
                    .filter(|domain| domain.acme().enabled)
                    .map(|domain| AcmeDomain {
                        name: domain.name().to_owned(),
                        email: domain.acme().email.clone(),
                        certificate: domain.certificate().map(|c| c.served().summary().clone()),
                    })
                    .collect()
            })
            .await
    }

    async fn store_issued(
        &self,
        name: &str,
        issued: &Issued,
    ) -> Result<CertificateSummary, StoreIssuedError> {
        let merged = zeroize::Zeroizing::new(format!(
            "{AUTO_ISSUED_HEADER}\n{}{}",
            issued.key_pem.as_str(),
            issued.chain_pem
        ));
        let report = self
            .0
            .domains
            .change(
                ACTOR,
                "domain.acme-issued",
                |tree| {
                    let report = tree.set_certificate(name, &merged, false)?;
                    Ok((name.to_owned(), report))
                },
                |_, _, report| report,
            )
            .await
            .map_err(|e| match e {
                DomainError::Edge(e) => StoreIssuedError::Refused(e.to_string()),
                other => StoreIssuedError::Failed(other.to_string()),
            })?;
        Ok(report.summary)
    }

    fn attempt_failed(&self, name: &str, message: String) {
        self.0
            .alerts
            .raise(AlertKind::AcmeFailed, Some(name), message, 1);
    }
}

/// Runs the renewal loop over the server's domains until the task is dropped.
pub async fn run(state: Arc<AppState>, acme: Arc<AcmeService>) {
    let renewal = Arc::new(RenewalLoop {
        service: acme,
        store: Arc::clone(&state.store),
        challenges: Arc::clone(&state.challenges),
        challenge: state.config.acme_challenge,
        target: DomainTarget(state),
    });
    renewal.run().await;
}

/// TLS-ALPN-01 certificates for the handshake path, from the shared answers.
pub struct AlpnAnswers(pub Arc<Challenges>);

impl std::fmt::Debug for AlpnAnswers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AlpnAnswers")
    }
}

impl ChallengeCertificates for AlpnAnswers {
    fn challenge_certificate(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        self.0.tls_alpn01_certificate(name)
    }
}
