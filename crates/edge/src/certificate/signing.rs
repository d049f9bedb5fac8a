//! The signing half of a served certificate: built at once for a bundle read now (an
//! upload, a certdir, the default certificate), or by the first handshake that needs it
//! for a bundle read back from the store at start-up.
//!
//! A stored bundle was fully checked when it was set, so start-up reads only its
//! certificates; the private key is read (and matched to its certificate again) here,
//! from the stored merged PEM, on first use. [`DeferredKey`] is the rustls signing key of
//! such a bundle: the [`CertifiedKey`] holding it, and so the chain, exists from start-up
//! (one copy of the chain, whether the key was read or not), and the key inside is built
//! exactly once. [`OnceLock`] makes concurrent handshakes wait for the one build and never
//! see a half-built key. A build that fails is kept as its reason: the certificate is then
//! never served, and the reason is what `domain show` and the alert say. A certificate
//! replaced meanwhile is another [`super::ServedCertificate`] with its own cell, so the
//! swap never serves the old key.

use crate::error::{EdgeError, Result};
use certfleet_pki::bundle::{self, Bundle, Contents};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, SubjectPublicKeyInfoDer,
};
use std::fmt;
use std::sync::{Arc, OnceLock};
use zeroize::Zeroizing;

/// The private key of a stored bundle, read from its merged PEM when first needed.
pub(super) struct DeferredKey {
    built: OnceLock<std::result::Result<Arc<dyn SigningKey>, Box<str>>>,
    /// The stored merged PEM (it holds the private key).
    stored: Arc<Zeroizing<String>>,
}

impl fmt::Debug for DeferredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whether it is built, never the key or the stored bundle.
        f.debug_struct("DeferredKey")
            .field("settled", &self.is_settled())
            .finish_non_exhaustive()
    }
}

impl DeferredKey {
    /// A key to read from the stored merged PEM `stored` when first needed.
    pub(super) fn new(stored: Arc<Zeroizing<String>>) -> Self {
        DeferredKey {
            built: OnceLock::new(),
            stored,
        }
    }

    /// Builds the key for `chain` (leaf first) on the first call; the reason when the
    /// stored bundle's key cannot serve `chain`, logged once with `describe`'s words for
    /// the certificate (never the key).
    pub(super) fn load(
        &self,
        chain: &[CertificateDer<'static>],
        describe: impl FnOnce() -> String,
    ) -> std::result::Result<(), &str> {
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
            .map(|_| ())
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

    /// The key, once built.
    fn loaded(&self) -> Option<&Arc<dyn SigningKey>> {
        self.built.get()?.as_ref().ok()
    }

    fn build(&self, chain: &[CertificateDer<'static>]) -> Result<Arc<dyn SigningKey>> {
        let found = match bundle::read_pem(&self.stored, None)? {
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
        signer(&found)
    }
}

/// What rustls asks of the key during a handshake. The certificate hands its
/// [`CertifiedKey`] out only after [`DeferredKey::load`] succeeded, so the key is built
/// whenever rustls asks; before that (never, on the handshake path) it offers no scheme.
impl SigningKey for DeferredKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        self.loaded()?.choose_scheme(offered)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        self.loaded()?.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.loaded()
            .map_or(SignatureAlgorithm::Anonymous, |key| key.algorithm())
    }
}

/// The rustls key and chain of a stored bundle, its key to be read on first use.
pub(super) fn deferred(
    chain: Vec<CertificateDer<'static>>,
    stored: Arc<Zeroizing<String>>,
) -> (Arc<CertifiedKey>, Arc<DeferredKey>) {
    let key = Arc::new(DeferredKey::new(stored));
    let certified = CertifiedKey::new(chain, Arc::clone(&key) as Arc<dyn SigningKey>);
    (Arc::new(certified), key)
}

/// The rustls signing key of a bundle's private key.
pub(super) fn signer(found: &Bundle) -> Result<Arc<dyn SigningKey>> {
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
