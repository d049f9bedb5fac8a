//! The rustls client verifiers for connections that do not trust by the web PKI: the one
//! that trusts only pinned certificates (the CLI talking to the admin listener) here, and
//! the one that accepts any chain, for callers that judge the chain themselves, under
//! [`danger`]. In every case the handshake signatures are still checked against the
//! presented key, so the peer holds the key of what it presented.

pub mod danger;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;

/// A [`ServerCertVerifier`] that accepts only pinned certificates, whatever names they
/// carry, and checks the handshake signatures with `provider`'s algorithms.
#[derive(Debug)]
pub struct HandshakeOnlyVerifier {
    /// Only a leaf that is byte for byte one of these is accepted.
    certificates: Vec<CertificateDer<'static>>,
    /// The handshake's error for any other leaf.
    refusal: String,
    signatures: HandshakeSignatures,
}

impl HandshakeOnlyVerifier {
    /// Accepts only a leaf equal to one of `certificates`, whatever names it carries;
    /// any other is refused with `refusal` as the handshake's error.
    pub fn pinned(
        certificates: Vec<CertificateDer<'static>>,
        refusal: impl Into<String>,
        provider: Arc<CryptoProvider>,
    ) -> Self {
        HandshakeOnlyVerifier {
            certificates,
            refusal: refusal.into(),
            signatures: HandshakeSignatures::new(provider),
        }
    }
}

impl ServerCertVerifier for HandshakeOnlyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .certificates
            .iter()
            .any(|pinned| pinned.as_ref() == end_entity.as_ref())
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(self.refusal.clone()))
        }
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

/// The handshake-signature half of a [`ServerCertVerifier`]: checks that the peer holds
/// the key of the certificate it presented, with a crypto provider's algorithms. Shared
/// by every certificate verifier of the product, which differ only in how they judge
/// the chain.
#[derive(Debug, Clone)]
pub struct HandshakeSignatures {
    provider: Arc<CryptoProvider>,
}

impl HandshakeSignatures {
    /// Checks signatures with `provider`'s verification algorithms.
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        HandshakeSignatures { provider }
    }

    /// [`ServerCertVerifier::verify_tls12_signature`].
    pub fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    /// [`ServerCertVerifier::verify_tls13_signature`].
    pub fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    /// [`ServerCertVerifier::supported_verify_schemes`].
    pub fn schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn verify(verifier: &HandshakeOnlyVerifier, leaf: &[u8]) -> Result<(), rustls::Error> {
        let name = ServerName::try_from("a.example.test").unwrap();
        verifier
            .verify_server_cert(
                &CertificateDer::from(leaf.to_vec()),
                &[],
                &name,
                &[],
                UnixTime::now(),
            )
            .map(|_| ())
    }

    #[test]
    fn pinned_accepts_only_its_certificates() {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let pinned = HandshakeOnlyVerifier::pinned(
            vec![CertificateDer::from(b"the one".to_vec())],
            "not the pinned certificate",
            Arc::clone(&provider),
        );
        assert!(verify(&pinned, b"the one").is_ok());
        let err = verify(&pinned, b"another").unwrap_err();
        assert!(
            err.to_string().contains("not the pinned certificate"),
            "{err}"
        );
        assert!(!pinned.supported_verify_schemes().is_empty());
    }
}
