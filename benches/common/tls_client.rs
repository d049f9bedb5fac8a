//! The benches' rustls client configuration: TLS 1.3 only, one key-exchange group, the
//! bench root as the only trust anchor, and no session resumption, so that every
//! connection is a full handshake the server has to pay for.

use anyhow::{Context, Result};
use rustls::crypto::aws_lc_rs::default_provider;
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use std::sync::Arc;

/// A client configuration trusting the PEM certificates in `ca` and offering `kx` alone.
pub fn full_handshake_config(
    ca: &str,
    kx: &'static dyn SupportedKxGroup,
) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).with_context(|| format!("reading {ca}"))? {
        roots.add(cert?)?;
    }
    let provider = CryptoProvider {
        kx_groups: vec![kx],
        ..default_provider()
    };
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}
