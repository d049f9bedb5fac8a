//! Trusting the agent listener before the agent has its CA: the enrolment token carries
//! the SHA-256 of the agents CA certificate. The handshake is accepted only when the
//! server presents, among its certificates, one with that hash, and the leaf verifies
//! against it (web PKI rules, for the server name the agent connected to).

use certfleet_pki::tls_verifier::HandshakeSignatures;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A server certificate verifier that trusts the CA whose certificate hashes to a pin.
#[derive(Debug)]
pub struct CaPinVerifier {
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
    signatures: HandshakeSignatures,
}

impl CaPinVerifier {
    /// Trusts the CA with SHA-256 `pin`.
    pub fn new(pin: [u8; 32], provider: Arc<CryptoProvider>) -> Self {
        let signatures = HandshakeSignatures::new(Arc::clone(&provider));
        CaPinVerifier {
            pin,
            provider,
            signatures,
        }
    }

    /// The presented certificate that matches the pin.
    fn pinned<'a>(&self, presented: &'a [CertificateDer<'a>]) -> Option<&'a CertificateDer<'a>> {
        presented
            .iter()
            .find(|cert| Sha256::digest(cert.as_ref()).as_slice() == self.pin)
    }
}

impl ServerCertVerifier for CaPinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let ca = self.pinned(intermediates).ok_or_else(|| {
            rustls::Error::General(
                "the server did not present the CA named by the token's pin (a different server, or a token of another server)".into(),
            )
        })?;
        let mut roots = RootCertStore::empty();
        roots
            .add(ca.clone().into_owned())
            .map_err(|e| rustls::Error::General(format!("the pinned CA is unusable: {e}")))?;
        let others: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .filter(|c| c.as_ref() != ca.as_ref())
            .cloned()
            .collect();
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&self.provider))
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?
            .verify_server_cert(end_entity, &others, server_name, ocsp_response, now)
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
    use super::*;
    use certfleet_pki::issue::LeafRequest;
    use certfleet_testkit::{server_leaf, TestCa};

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    #[test]
    fn only_a_chain_with_the_pinned_ca_that_signed_the_leaf_passes() {
        let ca = TestCa::root_valid_for("Agents CA", 30);
        let root = ca.root_cert().clone();
        let leaf = ca.issue(&LeafRequest {
            ips: vec!["127.0.0.1".parse().unwrap()],
            days: 5,
            ..server_leaf("127.0.0.1")
        });
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let now = UnixTime::now();
        let pin: [u8; 32] = Sha256::digest(root.as_ref()).into();
        let good = CaPinVerifier::new(pin, provider());
        good.verify_server_cert(&leaf.cert, std::slice::from_ref(&root), &name, &[], now)
            .unwrap();
        // Without the CA in the chain, or with another pin, or for another name: refused.
        assert!(good
            .verify_server_cert(&leaf.cert, &[], &name, &[], now)
            .is_err());
        let other = CaPinVerifier::new([7; 32], provider());
        assert!(other
            .verify_server_cert(&leaf.cert, std::slice::from_ref(&root), &name, &[], now)
            .is_err());
        let wrong_name = ServerName::try_from("other.test").unwrap();
        assert!(good
            .verify_server_cert(&leaf.cert, &[root], &wrong_name, &[], now)
            .is_err());
    }
}
