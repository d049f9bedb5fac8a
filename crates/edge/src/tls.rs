//! rustls server configuration for the edge's listeners: aws-lc-rs, TLS 1.2 and 1.3
//! only, with Mozilla's "intermediate" (default) or "modern" settings.
//!
//! - intermediate: TLS 1.2 and 1.3; for 1.2 only ECDHE with AES-GCM or CHACHA20-POLY1305
//!   (ECDSA and RSA certificates), in Mozilla's order; every TLS 1.3 suite;
//! - modern: TLS 1.3 only, every TLS 1.3 suite.
//!
//! Key exchange is X25519, P-256 and P-384, the groups Mozilla lists, so that compliance
//! checkers such as sslyze find nothing extra. The client's suite order is honoured, as
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
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
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
}
