//! Storing a certificate in a domain, with the checks it must pass.
//!
//! A domain's certificate wins over the certdir even when wrong, so what is stored must
//! be servable: the merged bundle must hold a key that matches its certificate (always
//! refused otherwise: a mismatched key fails every handshake, so `force` cannot help),
//! and the certificate's SANs must cover the domain's name (refused unless `force`).
//! An expired certificate is stored with a warning: serving it raises alerts.

use super::{DomainCertificate, DomainTree};
use crate::certificate::{now_unix, CertificateSummary, ServedCertificate};
use crate::error::{EdgeError, Result};
use std::sync::Arc;
use zeroize::Zeroizing;

/// What [`DomainTree::set_certificate`] stored, and what the administrator should know.
#[derive(Debug, Clone)]
pub struct SetCertificateReport {
    /// The domain's name.
    pub domain: String,
    /// The stored certificate.
    pub summary: CertificateSummary,
    /// Things that were accepted but deserve attention (forced name mismatch, expiry,
    /// a manual upload ending automatic renewal, by ACME or by a server CA).
    pub warnings: Vec<String>,
}

impl DomainTree {
    /// Stores a merged bundle (key, certificate, chain; read leniently) as the domain's
    /// certificate. Refuses a bundle without a key, a key that matches no certificate,
    /// and (unless `force`) a certificate whose DNS SANs do not cover the domain's name
    /// (a `*.` wildcard covers one label).
    pub fn set_certificate(
        &mut self,
        name: &str,
        pem: &str,
        force: bool,
    ) -> Result<SetCertificateReport> {
        let domain = self.existing(name)?;
        let served = ServedCertificate::from_pem(pem).map_err(|err| match err {
            EdgeError::Pki(pki) => EdgeError::Certificate(format!("domain {}: {pki}", domain.name)),
            other => other,
        })?;
        let summary = served.summary().clone();
        let mut warnings = Vec::new();
        if !served.covers(&domain.name) {
            let refusal = EdgeError::NameNotCovered {
                domain: domain.name.clone(),
                sans: summary.sans.clone(),
            };
            if !force {
                return Err(refusal);
            }
            warnings.push(format!(
                "stored because of --force although {refusal_text}; every handshake for {name} gets it and raises an alert",
                refusal_text = describe_mismatch(&summary),
                name = domain.name
            ));
        }
        if served.is_expired_at(now_unix()) {
            warnings.push(format!(
                "the certificate expired on {}; it still takes precedence over the certdir for {} and raises an alert at every handshake",
                summary.not_after, domain.name
            ));
        }
        // ACME renews the domain, or the certificate replaced was issued automatically
        // (by one of the server's CAs, which renews it while its header is there).
        let replaces_automatic = domain
            .certificate
            .as_ref()
            .is_some_and(|current| current.served.summary().auto_issued);
        if (domain.acme.enabled || replaces_automatic) && !summary.auto_issued {
            warnings.push(format!(
                "this bundle has no automatic-issuance header, so automatic renewal stops for {}",
                domain.name
            ));
        }
        let key = domain.name.clone();
        let stored = DomainCertificate {
            pem: Arc::new(Zeroizing::new(pem.to_owned())),
            served: Arc::new(served),
        };
        self.existing_mut(&key)?.certificate = Some(stored);
        Ok(SetCertificateReport {
            domain: key,
            summary,
            warnings,
        })
    }

    /// Removes the domain's certificate; handshakes then inherit the parent's.
    pub fn clear_certificate(&mut self, name: &str) -> Result<Option<DomainCertificate>> {
        Ok(self.existing_mut(name)?.certificate.take())
    }

    /// Stores an already parsed certificate without the name check (loading what the
    /// store holds: it was checked, or forced, when it was set).
    pub(crate) fn put_loaded_certificate(
        &mut self,
        name: &str,
        pem: Arc<Zeroizing<String>>,
        served: ServedCertificate,
    ) -> Result<()> {
        self.existing_mut(name)?.certificate = Some(DomainCertificate {
            pem,
            served: Arc::new(served),
        });
        Ok(())
    }
}

fn describe_mismatch(summary: &CertificateSummary) -> String {
    if summary.sans.is_empty() {
        "the certificate has no subject alternative names".to_owned()
    } else {
        format!("the certificate covers only {}", summary.sans.join(", "))
    }
}
