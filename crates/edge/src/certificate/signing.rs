//! The signing half of a served certificate, built exactly once: at once for a bundle
//! read now (an upload, a certdir, the default certificate), or by the first handshake
//! that needs it for a bundle read back from the store at start-up.
//!
//! A stored bundle was fully checked when it was set, so start-up reads only its
//! certificates; the private key is read (and matched to its certificate again) here,
//! from the stored merged PEM, on first use. [`OnceLock`] makes concurrent handshakes
//! wait for the one build and never see a half-built key. A build that fails is kept as
//! its reason: the certificate is then never served, and the reason is what `domain
//! show` and the alert say. A certificate replaced meanwhile is another
//! [`super::ServedCertificate`] with its own cell, so the swap never serves the old key.

use crate::error::{EdgeError, Result};
use certfleet_pki::bundle::{self, Bundle, Contents};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::{Arc, OnceLock};
use zeroize::Zeroizing;

/// A key built now, or the stored bundle to build it from on first use.
pub(super) struct SigningKey {
    built: OnceLock<std::result::Result<Arc<CertifiedKey>, Box<str>>>,
    /// The stored merged PEM (it holds the private key); `None` when built at once.
    stored: Option<Arc<Zeroizing<String>>>,
}

impl SigningKey {
    /// A key already built.
    pub(super) fn ready(key: Arc<CertifiedKey>) -> Self {
        SigningKey {
            built: OnceLock::from(Ok(key)),
            stored: None,
        }
    }

    /// A key to read from the stored merged PEM `stored` when first needed.
    pub(super) fn deferred(stored: Arc<Zeroizing<String>>) -> Self {
        SigningKey {
            built: OnceLock::new(),
            stored: Some(stored),
        }
    }

    /// The key and `chain` (leaf first), building it on the first call; the reason when
    /// the stored bundle's key cannot serve `chain`, logged once with `describe`'s words
    /// for the certificate (never the key).
    pub(super) fn get(
        &self,
        chain: &[CertificateDer<'static>],
        describe: impl FnOnce() -> String,
    ) -> std::result::Result<&Arc<CertifiedKey>, &str> {
        self.built
            .get_or_init(|| {
                self.build(chain).map_err(|err| {
                    tracing::error!(
                        "the stored certificate {} cannot be served: {err}",
                        describe()
                    );
                    err.to_string().into_boxed_str()
                })
            })
            .as_ref()
            .map_err(|reason| &**reason)
    }

    /// Why the key could not be built, once a build was tried and failed.
    pub(super) fn failure(&self) -> Option<&str> {
        match self.built.get() {
            Some(Err(reason)) => Some(reason),
            _ => None,
        }
    }

    /// Whether the key is built (or its build failed).
    pub(super) fn is_settled(&self) -> bool {
        self.built.get().is_some()
    }

    fn build(&self, chain: &[CertificateDer<'static>]) -> Result<Arc<CertifiedKey>> {
        let stored = self.stored.as_ref().ok_or_else(|| {
            EdgeError::Certificate("no stored bundle to read the private key from".into())
        })?;
        let found = match bundle::read_pem(stored, None)? {
            Contents::Bundle(found) => found,
            Contents::Request(_) => {
                return Err(EdgeError::Certificate(
                    "the stored bundle is a certificate signing request".into(),
                ))
            }
        };
        if found.leaf.as_ref() != chain.first() {
            return Err(EdgeError::Certificate(
                "the stored bundle's private key belongs to another of its certificates than the leaf it serves; set the certificate again".into(),
            ));
        }
        Ok(Arc::new(CertifiedKey::new(chain.to_vec(), signer(&found)?)))
    }
}

/// The rustls signing key of a bundle's private key.
pub(super) fn signer(found: &Bundle) -> Result<Arc<dyn rustls::sign::SigningKey>> {
    let key = found.key.as_ref().ok_or_else(|| {
        EdgeError::Certificate(
            "the bundle has no private key; a served certificate needs its key first, then the certificate, then the chain".into(),
        )
    })?;
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der().to_vec()));
    rustls::crypto::aws_lc_rs::sign::any_supported_type(&der).map_err(|e| {
        EdgeError::Certificate(format!(
            "the {} private key cannot sign TLS handshakes ({e}); use ECDSA P-256/P-384, Ed25519 or RSA of 2048 bits or more",
            key.algorithm()
        ))
    })
}
