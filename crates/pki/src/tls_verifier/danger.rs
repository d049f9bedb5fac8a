//! Verifiers that accept a server's chain without judging it. The name is the warning:
//! a connection made with one of these proves only that the peer holds the key of the
//! certificate it presented, not who the peer is.

use super::HandshakeSignatures;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;

/// A [`ServerCertVerifier`] that accepts whatever chain the server presents, for any
/// name, and only checks the handshake signatures with the provider's algorithms.
///
/// # When it is safe
///
/// Only where the caller judges the presented certificate itself once the handshake is
/// done: it compares the leaf's thumbprint or pin with the one it expects (the node
/// agent's listener checks, tests and benchmarks that compare thumbprints), or it
/// verifies the chain by its own rules and reports the verdict (`scan`). Anyone can
/// present any certificate to this verifier, so a connection whose trust rests on the
/// handshake alone must never use it. The one other use is the one an operator asks for
/// by name: a route's `upstream_trust = false`, which certfleet warns about at start-up.
/// To trust exactly one known certificate, use
/// [`HandshakeOnlyVerifier::pinned`](super::HandshakeOnlyVerifier::pinned) instead.
#[derive(Debug)]
pub struct AnyChainVerifier {
    signatures: HandshakeSignatures,
}

impl AnyChainVerifier {
    /// Accepts any chain; checks handshake signatures with `provider`'s algorithms.
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        AnyChainVerifier {
            signatures: HandshakeSignatures::new(provider),
        }
    }
}

impl ServerCertVerifier for AnyChainVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn any_chain_accepts_whatever_is_presented() {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let any = AnyChainVerifier::new(provider);
        let name = ServerName::try_from("a.example.test").unwrap();
        let verdict = any.verify_server_cert(
            &CertificateDer::from(b"anything".to_vec()),
            &[],
            &name,
            &[],
            UnixTime::now(),
        );
        assert!(verdict.is_ok());
        assert!(!any.supported_verify_schemes().is_empty());
    }
}
