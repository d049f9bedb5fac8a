//! The handshake side: rustls asks [`SniCertResolver`] for a certificate, it loads the
//! current snapshot (lock-free), runs [`crate::resolver::Resolver::select`] and returns
//! the key. Serving a domain certificate that has expired or does not cover the SNI name
//! raises an alert; that is the only allocation on this path, and it happens only then
//! (and once per certificate read from the store, whose key the first handshake reads).
//! A domain certificate whose stored key cannot be loaded is never served: the handshake
//! is refused.
//!
//! A handshake offering only the ALPN protocol `acme-tls/1` is an ACME server validating
//! a TLS-ALPN-01 challenge (RFC 8737): it gets the challenge certificate of its name from
//! the [`ChallengeCertificates`] source, or no certificate at all (handshake refused).

use crate::alerts::{AlertEvent, AlertKind};
use crate::certificate::now_unix;
use crate::hub::CertificateHub;
use crate::resolver::{Selection, Source};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::sync::Arc;

/// The ALPN protocol of TLS-ALPN-01 validation handshakes (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Where TLS-ALPN-01 challenge certificates come from (the ACME client). Lookups must not
/// block: they run on the handshake path.
pub trait ChallengeCertificates: Send + Sync + std::fmt::Debug {
    /// The challenge certificate for `name` (lower-case), when a challenge is pending.
    fn challenge_certificate(&self, name: &str) -> Option<Arc<CertifiedKey>>;
}

/// A rustls certificate resolver for listeners of one role.
#[derive(Debug)]
pub struct SniCertResolver {
    hub: Arc<CertificateHub>,
    role: Box<str>,
    challenges: Option<Arc<dyn ChallengeCertificates>>,
}

impl SniCertResolver {
    /// A resolver reading `hub`'s snapshots for a listener of `role`.
    pub fn new(hub: Arc<CertificateHub>, role: &str) -> Self {
        SniCertResolver {
            hub,
            role: role.into(),
            challenges: None,
        }
    }

    /// Answers TLS-ALPN-01 validation handshakes from `challenges`.
    pub fn with_challenges(mut self, challenges: Arc<dyn ChallengeCertificates>) -> Self {
        self.challenges = Some(challenges);
        self
    }

    /// The listener role.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// The certificate for a handshake that sent `sni` (the handshake path without
    /// rustls's `ClientHello`, for tests and benchmarks); `None` refuses the handshake:
    /// the domain's stored key could not be loaded, and no other certificate stands in.
    pub fn certificate_for(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let snapshot = self.hub.load();
        let selection = snapshot.select(sni, &self.role, now_unix());
        if selection.source == Source::Domain && (selection.expired || selection.name_mismatch) {
            self.alert(sni, &snapshot, &selection);
        }
        selection.key.map(Arc::clone)
    }

    #[cold]
    fn alert(
        &self,
        sni: Option<&str>,
        snapshot: &crate::resolver::Resolver,
        selection: &Selection<'_>,
    ) {
        let resolution = snapshot.explain(sni, &self.role, selection);
        let kinds = [
            (selection.expired, AlertKind::Expired),
            (selection.name_mismatch, AlertKind::NameMismatch),
        ];
        for (_, kind) in kinds.into_iter().filter(|(raised, _)| *raised) {
            self.hub.alerts().record(AlertEvent {
                kind,
                at_unix: now_unix(),
                role: self.role.to_string(),
                sni: resolution.sni.clone(),
                domain: resolution.domain.clone(),
                sha1_thumbprint: resolution.sha1_thumbprint.clone(),
                message: resolution.reason.clone(),
            });
        }
    }
}

impl ResolvesServerCert for SniCertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if let Some(challenges) = &self.challenges {
            let mut offered = hello.alpn().into_iter().flatten();
            if offered.any(|protocol| protocol == ACME_TLS_ALPN) {
                let name = hello.server_name()?.to_ascii_lowercase();
                return challenges.challenge_certificate(&name);
            }
        }
        self.certificate_for(hello.server_name())
    }
}
