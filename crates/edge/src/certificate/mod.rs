//! A certificate ready to serve: its chain, what the resolver, the alerts and `domain
//! show` need to know about it (computed once when it is loaded), and the rustls
//! [`CertifiedKey`] that handshakes get.
//!
//! [`ServedCertificate::from_pem`] reads a merged bundle leniently (through
//! `certfleet_pki::bundle::read_pem`: blocks in any order, metadata lines, CRLF,
//! flattened newlines), insists on a private key that matches a certificate, and builds
//! the signing key with rustls's aws-lc-rs provider. [`ServedCertificate::from_stored`]
//! reads a bundle that passed those checks when it was stored: its certificates now, its
//! key on first use (see `signing`), so that start-up with many domains does not read
//! every key. Certificates certfleet obtained through ACME carry the header line
//! [`AUTO_ISSUED_HEADER`]; a bundle without it was uploaded by hand.

mod shared_issuers;
mod signing;

use crate::error::{EdgeError, Result};
use crate::names::covers;
use certfleet_pki::bundle::{self, Bundle, Contents};
use certfleet_pki::csr::general_names_to_sans;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::inspect::rfc3339;
use certfleet_pki::names::San;
use rustls::sign::CertifiedKey;
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use signing::DeferredKey;
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The header line written above an automatically issued (ACME) certificate. A stored
/// `certificate_pem` without it was uploaded by hand, which ends automatic renewal.
pub const AUTO_ISSUED_HEADER: &str = "# certfleet: auto-issued acme";

/// The part of [`AUTO_ISSUED_HEADER`] that marks a bundle as automatically issued, so
/// that later header variants (`auto-issued acme directory=...`) still count.
const AUTO_ISSUED_MARK: &str = "# certfleet: auto-issued";

/// What `domain show` prints about a certificate (its `certificate` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateSummary {
    /// SHA-1 thumbprint of the leaf, 40 upper-case hex digits.
    pub sha1_thumbprint: String,
    /// End of the leaf's validity, RFC 3339.
    pub not_after: String,
    /// End of validity as Unix seconds (for expiry checks; not printed).
    #[serde(skip)]
    pub not_after_unix: i64,
    /// Start of validity as Unix seconds (for the renewal schedule; not printed).
    #[serde(skip)]
    pub not_before_unix: i64,
    /// The leaf's SANs: `DNS:name` and `IP:addr`.
    pub sans: Vec<String>,
    /// The bundle carried the [`AUTO_ISSUED_HEADER`] line.
    pub auto_issued: bool,
}

/// A key and certificate chain loaded for serving, with its summary.
pub struct ServedCertificate {
    /// The leaf, then its chain in issuer order (what handshakes send), and the key. The
    /// chain is kept here only: for a stored bundle the key inside is `deferred`.
    key: Arc<CertifiedKey>,
    /// The stored bundle's key, read on first use; `None` when the key was read at once.
    deferred: Option<Arc<DeferredKey>>,
    summary: CertificateSummary,
    /// Lower-cased DNS SANs, for the name check on the handshake path.
    dns_names: Box<[Box<str>]>,
}

impl fmt::Debug for ServedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The summary only: never the key.
        f.debug_struct("ServedCertificate")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl ServedCertificate {
    /// Reads a merged bundle (key, certificate, chain; any order, lenient). Refuses a
    /// bundle without a key or without a certificate, and a key matching no certificate.
    pub fn from_pem(text: &str) -> Result<Self> {
        match bundle::read_pem(text, None)? {
            Contents::Bundle(found) => Self::from_bundle(&found, is_auto_issued(text)),
            Contents::Request(_) => Err(EdgeError::Certificate(
                "a certificate signing request cannot be served; give the key, the signed certificate and its chain".into(),
            )),
        }
    }

    /// Builds from an already sorted bundle (the leaf matches the key; the chain is in
    /// issuer order). Unrelated certificates are not sent.
    pub fn from_bundle(found: &Bundle, auto_issued: bool) -> Result<Self> {
        let signer = signing::signer(found)?;
        let leaf = found.leaf.as_ref().ok_or_else(|| {
            EdgeError::Certificate("the bundle has a private key but no certificate".into())
        })?;
        let chain: Vec<_> = std::iter::once(leaf.clone())
            .chain(found.chain.iter().cloned().map(shared_issuers::shared))
            .collect();
        let (summary, dns_names) = summarise(leaf.as_ref(), auto_issued)?;
        Ok(ServedCertificate {
            key: Arc::new(CertifiedKey::new(chain, signer)),
            deferred: None,
            summary,
            dns_names,
        })
    }

    /// Reads a merged bundle as the store keeps it, which passed [`Self::from_pem`]'s
    /// checks when it was set: its certificates and summary now, its private key on the
    /// first [`Self::certified_key`] (which checks again that the key is the leaf's).
    /// Refuses a bundle without a key block or without a certificate.
    pub fn from_stored(pem: Arc<Zeroizing<String>>) -> Result<Self> {
        let (found, has_key) = bundle::read_pem_certificates(&pem)?;
        if !has_key {
            return Err(EdgeError::Certificate(
                "the stored bundle has no private key; set the certificate again with its key"
                    .into(),
            ));
        }
        let leaf = found.leaf.ok_or_else(|| {
            EdgeError::Certificate("the stored bundle has a private key but no certificate".into())
        })?;
        let (summary, dns_names) = summarise(leaf.as_ref(), is_auto_issued(&pem))?;
        let issuers = found.chain.into_iter().map(shared_issuers::shared);
        let chain = std::iter::once(leaf).chain(issuers).collect();
        let (key, deferred) = signing::deferred(chain, pem);
        Ok(ServedCertificate {
            key,
            deferred: Some(deferred),
            summary,
            dns_names,
        })
    }

    /// The rustls key and chain, built on the first call for a stored bundle (callers
    /// racing that build wait for it). `None` when the stored key cannot serve this
    /// certificate ([`Self::load_error`] says why): such a certificate is never served.
    pub fn certified_key(&self) -> Option<&Arc<CertifiedKey>> {
        if let Some(deferred) = &self.deferred {
            let describe = || {
                format!(
                    "sha1 {} ({})",
                    self.summary.sha1_thumbprint,
                    self.summary.sans.join(", ")
                )
            };
            deferred.load(&self.key.cert, describe).ok()?;
        }
        Some(&self.key)
    }

    /// Why the private key of a stored bundle could not be loaded, once a handshake (or
    /// [`Self::certified_key`]) tried; `None` while it is loaded or not yet tried.
    pub fn load_error(&self) -> Option<&str> {
        self.deferred.as_ref()?.failure()
    }

    /// Whether the key is loaded (or its loading failed): false for a stored bundle no
    /// handshake has needed yet.
    pub fn is_key_settled(&self) -> bool {
        self.deferred.as_ref().is_none_or(|key| key.is_settled())
    }

    /// The leaf, then its chain in issuer order, as handshakes send them (no key needed).
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.key.cert
    }

    /// Thumbprint, expiry, SANs, auto-issued flag.
    pub fn summary(&self) -> &CertificateSummary {
        &self.summary
    }

    /// Whether a DNS SAN covers `name` (lower-cased; wildcards stand for one label).
    pub fn covers(&self, name: &str) -> bool {
        self.dns_names.iter().any(|san| covers(san, name))
    }

    /// Whether the leaf's validity ended before `now_unix`.
    pub fn is_expired_at(&self, now_unix: i64) -> bool {
        now_unix > self.summary.not_after_unix
    }
}

/// Whether a stored bundle carries the automatic-issuance header before its first block.
pub fn is_auto_issued(pem: &str) -> bool {
    let head = pem.split("-----BEGIN").next().unwrap_or_default();
    head.contains(AUTO_ISSUED_MARK)
}

fn summarise(leaf: &[u8], auto_issued: bool) -> Result<(CertificateSummary, Box<[Box<str>]>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| EdgeError::Certificate(format!("the leaf certificate does not parse: {e}")))?;
    let not_after = cert.validity().not_after.to_datetime();
    let sans = match cert.subject_alternative_name() {
        Ok(Some(ext)) => general_names_to_sans(&ext.value.general_names),
        Ok(None) => Vec::new(),
        Err(e) => {
            return Err(EdgeError::Certificate(format!(
                "the leaf's subject alternative names do not parse: {e}"
            )))
        }
    };
    let dns_names = sans
        .iter()
        .filter_map(|san| match san {
            San::Dns(name) => Some(Box::from(name.as_str())),
            San::Ip(_) => None,
        })
        .collect();
    let summary = CertificateSummary {
        sha1_thumbprint: sha1_thumbprint(leaf),
        not_after: rfc3339(not_after),
        not_after_unix: not_after.unix_timestamp(),
        not_before_unix: cert.validity().not_before.timestamp(),
        sans: sans.iter().map(San::display).collect(),
        auto_issued,
    };
    Ok((summary, dns_names))
}

/// The current time in Unix seconds (0 if the clock is before 1970). A vDSO call, no I/O.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_marks_automatic_issuance_only_before_the_first_block() {
        assert!(is_auto_issued(&format!(
            "{AUTO_ISSUED_HEADER}\n-----BEGIN PRIVATE KEY-----\n"
        )));
        assert!(is_auto_issued(
            "# certfleet: auto-issued acme directory=x -----BEGIN PRIVATE KEY-----"
        ));
        assert!(!is_auto_issued(
            "date=2023-11-29 -----BEGIN RSA PRIVATE KEY-----"
        ));
        assert!(!is_auto_issued(
            "-----BEGIN CERTIFICATE-----\n# certfleet: auto-issued\n"
        ));
    }
}

#[cfg(test)]
mod stored_tests;
