//! rustls server configuration for the edge's listeners: aws-lc-rs, TLS 1.2 and 1.3
//! only, with Mozilla's "intermediate" (default) or "modern" settings.
//!
//! - intermediate: TLS 1.2 and 1.3; for 1.2 only ECDHE with AES-GCM or CHACHA20-POLY1305
//!   (ECDSA and RSA certificates), in Mozilla's order; every TLS 1.3 suite;
//! - modern: TLS 1.3 only, every TLS 1.3 suite.
//!
//! Key exchange is X25519MLKEM768 (the hybrid of X25519 and the post-quantum ML-KEM-768,
//! TLS 1.3 only), then X25519, P-256 and P-384, the groups Mozilla lists. The hybrid is
//! chosen whenever a client sends a key share for it (current browsers do), so recorded
//! traffic stays private against a future quantum computer; a client that offers only
//! the classic groups gets X25519 without an extra round trip. The client's suite order is honoured, as
//! Mozilla recommends when every offered suite is strong. ALPN defaults to `h2` then
//! `http/1.1`. Session resumption (an in-memory session cache and TLS 1.3 tickets) is on
//! by default; benchmarks turn it off to measure full handshakes.

use crate::error::{EdgeError, Result};
use rustls::crypto::aws_lc_rs::{self, cipher_suite, kx_group};
use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{
    NoClientAuth, NoServerSessionStorage, ResolvesServerCert, ServerSessionMemoryCache,
};
use rustls::ServerConfig;
use serde::Deserialize;
use std::str::FromStr;
use std::sync::Arc;

/// A listener's `tls_profile`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsProfile {
    /// Mozilla intermediate: TLS 1.2 and 1.3 (the default).
    #[default]
    Intermediate,
    /// Mozilla modern: TLS 1.3 only.
    Modern,
}

impl FromStr for TlsProfile {
    type Err = EdgeError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "intermediate" => Ok(TlsProfile::Intermediate),
            "modern" => Ok(TlsProfile::Modern),
            other => Err(EdgeError::Tls(format!(
                "unknown tls_profile '{other}'; expected intermediate or modern"
            ))),
        }
    }
}

/// How one listener's TLS is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// Mozilla profile.
    pub profile: TlsProfile,
    /// ALPN protocols in preference order; empty turns ALPN off.
    pub alpn: Vec<Vec<u8>>,
    /// Session cache and TLS 1.3 tickets.
    pub session_resumption: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            profile: TlsProfile::Intermediate,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            session_resumption: true,
        }
    }
}

/// Sessions the in-memory cache keeps when resumption is on.
const SESSION_CACHE_SIZE: usize = 4096;

/// The aws-lc-rs provider cut down to a profile's suites and groups.
pub fn crypto_provider(profile: TlsProfile) -> CryptoProvider {
    let tls13 = [
        cipher_suite::TLS13_AES_128_GCM_SHA256,
        cipher_suite::TLS13_AES_256_GCM_SHA384,
        cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
    ];
    let tls12 = [
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    let cipher_suites = match profile {
        TlsProfile::Intermediate => tls13.into_iter().chain(tls12).collect(),
        TlsProfile::Modern => tls13.to_vec(),
    };
    CryptoProvider {
        cipher_suites,
        kx_groups: vec![
            kx_group::X25519MLKEM768,
            kx_group::X25519,
            kx_group::SECP256R1,
            kx_group::SECP384R1,
        ],
        ..aws_lc_rs::default_provider()
    }
}

/// A server configuration whose certificates come from `resolver` (normally a
/// [`crate::sni::SniCertResolver`]).
pub fn server_config(
    options: &TlsOptions,
    resolver: Arc<dyn ResolvesServerCert>,
) -> Result<ServerConfig> {
    server_config_with_client_auth(options, resolver, Arc::new(NoClientAuth))
}

/// As [`server_config`], asking clients for certificates as `verifier` says.
pub fn server_config_with_client_auth(
    options: &TlsOptions,
    resolver: Arc<dyn ResolvesServerCert>,
    verifier: Arc<dyn ClientCertVerifier>,
) -> Result<ServerConfig> {
    let versions: &[&'static rustls::SupportedProtocolVersion] = match options.profile {
        TlsProfile::Intermediate => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsProfile::Modern => &[&rustls::version::TLS13],
    };
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(crypto_provider(options.profile)))
            .with_protocol_versions(versions)?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(resolver);
    config.alpn_protocols = options.alpn.clone();
    if options.session_resumption {
        config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE_SIZE);
        config.ticketer = aws_lc_rs::Ticketer::new()?;
    } else {
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_carry_their_suites() {
        assert_eq!("modern".parse::<TlsProfile>().unwrap(), TlsProfile::Modern);
        assert!("old".parse::<TlsProfile>().is_err());
        let modern = crypto_provider(TlsProfile::Modern);
        assert!(modern
            .cipher_suites
            .iter()
            .all(|s| s.version() == &rustls::version::TLS13));
        let intermediate = crypto_provider(TlsProfile::Intermediate);
        assert_eq!(intermediate.cipher_suites.len(), 9);
    }

    /// Always the one certificate: SNI selection is not what these tests are about.
    #[derive(Debug)]
    struct OneCertificate(Arc<rustls::sign::CertifiedKey>);

    impl ResolvesServerCert for OneCertificate {
        fn resolve(
            &self,
            _: rustls::server::ClientHello<'_>,
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    /// Runs a TLS 1.3 handshake in memory between the edge's default server settings
    /// and a rustls client offering only `groups`; gives the group each side settled on.
    fn handshake_offering(
        groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup>,
    ) -> (rustls::NamedGroup, rustls::NamedGroup) {
        use certfleet_pki::issue::LeafRequest;
        use certfleet_testkit::{merged_pem, server_leaf, TestCa};
        let ca = TestCa::root("edge kx root");
        let leaf = ca.issue(&LeafRequest {
            dns_names: vec!["kx.test".into()],
            ..server_leaf("kx.test")
        });
        let served = crate::certificate::ServedCertificate::from_pem(&merged_pem(leaf)).unwrap();
        let resolver = Arc::new(OneCertificate(served.certified_key().unwrap().clone()));
        let server_config = server_config(&TlsOptions::default(), resolver).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.root_cert().clone()).unwrap();
        let client_provider = CryptoProvider {
            kx_groups: groups,
            ..aws_lc_rs::default_provider()
        };
        let client_config = rustls::ClientConfig::builder_with_provider(Arc::new(client_provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls_pki_types::ServerName::try_from("kx.test").unwrap();
        let mut client = rustls::ClientConnection::new(Arc::new(client_config), name).unwrap();
        let mut server = rustls::ServerConnection::new(Arc::new(server_config)).unwrap();
        for _ in 0..10 {
            if !client.is_handshaking() && !server.is_handshaking() {
                break;
            }
            let mut wire = Vec::new();
            client.write_tls(&mut wire).unwrap();
            server.read_tls(&mut wire.as_slice()).unwrap();
            server.process_new_packets().unwrap();
            let mut wire = Vec::new();
            server.write_tls(&mut wire).unwrap();
            client.read_tls(&mut wire.as_slice()).unwrap();
            client.process_new_packets().unwrap();
        }
        assert!(!client.is_handshaking() && !server.is_handshaking());
        let group = |kx: Option<&'static dyn rustls::crypto::SupportedKxGroup>| {
            kx.expect("a TLS 1.3 handshake settles on a group").name()
        };
        (
            group(client.negotiated_key_exchange_group()),
            group(server.negotiated_key_exchange_group()),
        )
    }

    #[test]
    fn a_client_offering_only_the_post_quantum_hybrid_completes_a_handshake() {
        let (client, server) = handshake_offering(vec![kx_group::X25519MLKEM768]);
        assert_eq!(client, rustls::NamedGroup::X25519MLKEM768);
        assert_eq!(server, rustls::NamedGroup::X25519MLKEM768);
    }

    #[test]
    fn the_hybrid_is_preferred_and_classic_clients_get_x25519() {
        let both = handshake_offering(vec![kx_group::X25519MLKEM768, kx_group::X25519]);
        assert_eq!(both.1, rustls::NamedGroup::X25519MLKEM768);
        let classic = handshake_offering(vec![kx_group::X25519, kx_group::SECP256R1]);
        assert_eq!(classic.1, rustls::NamedGroup::X25519);
    }
}
