//! A rustls client verifier that judges the server's chain with [`verify`] under a
//! [`Profile`], so that a TLS connection refuses what `certfleet verify --profile`
//! refuses, with the same reason in words: the edge uses it with [`Profile::WebPki`]
//! towards upstreams verified against the public web roots. The handshake signatures are
//! checked with the crypto provider's algorithms, as rustls's own verifier does.

use super::{verify, Profile, Purpose, VerifyRequest};
use crate::tls_verifier::HandshakeSignatures;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::net::IpAddr;
use std::sync::Arc;
use time::OffsetDateTime;

/// A [`ServerCertVerifier`] running certfleet's path verification under one profile.
#[derive(Debug)]
pub struct ProfileVerifier {
    trust_anchors: Vec<CertificateDer<'static>>,
    profile: Profile,
    signatures: HandshakeSignatures,
}

impl ProfileVerifier {
    /// A verifier trusting those of `trust_anchors` that can serve as anchors (others,
    /// such as an unparsable entry of a system store, are left out, as rustls's root
    /// store leaves them out); `None` when none is left.
    pub fn new(
        trust_anchors: Vec<CertificateDer<'static>>,
        profile: Profile,
        provider: Arc<CryptoProvider>,
    ) -> Option<Self> {
        let usable: Vec<CertificateDer<'static>> = trust_anchors
            .into_iter()
            .filter(|der| webpki::anchor_from_trusted_cert(der).is_ok())
            .collect();
        (!usable.is_empty()).then_some(ProfileVerifier {
            trust_anchors: usable,
            profile,
            signatures: HandshakeSignatures::new(provider),
        })
    }

    /// How many trust anchors it holds.
    pub fn trust_anchor_count(&self) -> usize {
        self.trust_anchors.len()
    }
}

impl ServerCertVerifier for ProfileVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let host = match server_name {
            ServerName::DnsName(name) => name.as_ref().to_owned(),
            ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
            _ => {
                return Err(rustls::Error::General(
                    "the server name is neither a DNS name nor an IP address".into(),
                ))
            }
        };
        let leaf = end_entity.clone().into_owned();
        let chain: Vec<CertificateDer<'static>> = intermediates
            .iter()
            .map(|der| der.clone().into_owned())
            .collect();
        let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let mut request = VerifyRequest::new(&leaf, &self.trust_anchors);
        request.intermediates = &chain;
        request.at = OffsetDateTime::from_unix_timestamp(seconds)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        request.purpose = Purpose::Server;
        request.host = Some(&host);
        request.profile = self.profile;
        verify(&request)
            .map(|_| ServerCertVerified::assertion())
            .map_err(|failure| {
                rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                    failure,
                ))))
            })
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
    use crate::authority::{init_ca, Authority};
    use crate::issue::{issue_leaf, LeafRequest};
    use crate::keys::KeyAlgorithm;
    use crate::profile::Usage;

    fn check(
        verifier: &ProfileVerifier,
        leaf: &CertificateDer<'static>,
        host: &str,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        verifier.verify_server_cert(leaf, &[], &name, &[], UnixTime::now())
    }

    #[test]
    fn refuses_with_the_profiles_reason_and_accepts_what_it_allows() {
        let ca = init_ca("Edge Root", KeyAlgorithm::EcdsaP256, 3650, None).unwrap();
        let root = ca.root_cert.clone();
        let authority = Authority::new(ca.root_cert, ca.root_key, vec![]).unwrap();
        let leaf = |days| {
            let request = LeafRequest {
                cn: "upstream.example.test".into(),
                dns_names: vec![],
                ips: vec![],
                usage: Usage::Server,
                days,
                key: KeyAlgorithm::EcdsaP256,
            };
            issue_leaf(&request, Some(&authority)).unwrap().cert
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let junk = CertificateDer::from(b"not a certificate".to_vec());
        let public = ProfileVerifier::new(
            vec![junk.clone(), root.clone()],
            Profile::WebPki,
            Arc::clone(&provider),
        )
        .unwrap();
        assert_eq!(public.trust_anchor_count(), 1);
        assert!(check(&public, &leaf(90), "upstream.example.test").is_ok());
        let err = check(&public, &leaf(500), "upstream.example.test").unwrap_err();
        assert!(err.to_string().contains("398 days"), "{err}");
        let err = check(&public, &leaf(90), "other.example.test").unwrap_err();
        assert!(
            err.to_string().contains("not for other.example.test"),
            "{err}"
        );
        let private = ProfileVerifier::new(vec![root], Profile::Rfc5280, provider).unwrap();
        assert!(check(&private, &leaf(500), "upstream.example.test").is_ok());
        assert!(ProfileVerifier::new(
            vec![junk],
            Profile::WebPki,
            Arc::new(rustls::crypto::aws_lc_rs::default_provider())
        )
        .is_none());
    }
}
