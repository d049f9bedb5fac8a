//! TLS client settings for a route's `https://` upstream, from its `upstream_trust`:
//! the system roots (`true`), no verification (`false`, warned about at start-up), or
//! the certificates of a CA file in PEM, DER, JKS or PKCS#12 ([`super::trust_file`]).
//!
//! An upstream verified against the system roots is a public one, so its chain is held
//! to the `webpki` profile of certfleet's verifier (RFC 5280 and the CA/Browser Forum
//! Baseline Requirements, [`ProfileVerifier`]), as `scan` holds it; a CA file stands for
//! a platform's own CA, checked by rustls's verifier.

use super::trust_file::trust_file_certificates;
use anyhow::{anyhow, bail, Context, Result};
use certfleet_config::UpstreamTrust;
use certfleet_pki::tls_verifier::danger::AnyChainVerifier;
use certfleet_pki::verify::{Profile, ProfileVerifier};
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use std::sync::Arc;

/// The TLS client configuration a route uses towards its upstream.
pub fn client_config(trust: &UpstreamTrust) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .context("TLS versions for the upstream client")?;
    let config = match trust {
        UpstreamTrust::System => {
            let verifier = ProfileVerifier::new(system_roots()?, Profile::WebPki, provider)
                .ok_or_else(|| {
                    anyhow!(
                        "upstream_trust = true: none of the system root certificates can be a trust anchor (reinstall ca-certificates, or name a CA file)"
                    )
                })?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
        UpstreamTrust::Insecure => builder
            .dangerous()
            // Any certificate; the handshake signature is still checked, so the
            // connection is encrypted to whoever holds the key.
            .with_custom_certificate_verifier(Arc::new(AnyChainVerifier::new(provider)))
            .with_no_client_auth(),
        UpstreamTrust::File { path, password } => {
            let certs = trust_file_certificates(
                "upstream_trust",
                path,
                password.as_deref().map(String::as_str),
            )?;
            let mut roots = RootCertStore::empty();
            for (index, cert) in certs.into_iter().enumerate() {
                roots.add(cert).map_err(|e| {
                    anyhow!(
                        "upstream_trust: {}: certificate #{} cannot be a trust anchor: {e}",
                        path.display(),
                        index + 1
                    )
                })?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(config)
}

fn system_roots() -> Result<Vec<CertificateDer<'static>>> {
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        bail!(
            "upstream_trust = true: no system root certificates found (install ca-certificates, or name a CA file)"
        );
    }
    Ok(found.certs)
}
