//! Client certificates: asked for in the handshake of the hosts whose routes use them,
//! then checked per route (issued by the route's `client_ca`, and on
//! `allowed_thumbprints` when that list is not empty).
//!
//! The handshake verifier of a host trusts the union of its routes' client CAs; it makes a
//! certificate mandatory only when every route of the host requires one (otherwise a
//! route without client auth on the same host would be unreachable). Every refusal, in
//! the handshake or per route, is logged with the SHA-256 and SHA-1 thumbprints of the
//! certificate seen.

use super::Route;
use anyhow::{anyhow, Context, Result};
use certfleet_config::ClientAuth;
use certfleet_pki::inspect::fingerprint::{sha1_thumbprint, sha256_fingerprint};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, UnixTime};
use std::path::Path;
use std::sync::Arc;

/// A route's client-certificate policy.
pub struct RouteClientAuth {
    mode: ClientAuth,
    roots: Vec<CertificateDer<'static>>,
    verifier: Arc<dyn ClientCertVerifier>,
    allowed_thumbprints: Vec<String>,
}

/// Why a request was refused by a route's client-certificate policy.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The route requires a certificate and none was presented.
    NoCertificate,
    /// The certificate does not chain to the route's client CA.
    Untrusted(String),
    /// The certificate is valid but not on `allowed_thumbprints`.
    NotAllowed,
}

impl RouteClientAuth {
    /// Loads the route's client CA file (PEM, DER, JKS or PKCS#12 without password).
    pub fn load(mode: ClientAuth, ca_file: Option<&Path>, allowed: &[String]) -> Result<Self> {
        let ca_file = ca_file.ok_or_else(|| anyhow!("client_ca: client_auth needs the CA file"))?;
        let roots = super::trust_file::trust_file_certificates("client_ca", ca_file, None)?;
        let verifier = webpki_verifier(&roots, true)
            .with_context(|| format!("client_ca: {}", ca_file.display()))?;
        Ok(RouteClientAuth {
            mode,
            roots,
            verifier,
            allowed_thumbprints: allowed.to_vec(),
        })
    }

    /// True when the route refuses requests without a certificate.
    pub fn required(&self) -> bool {
        self.mode == ClientAuth::Required
    }

    /// Checks the chain the client presented in the handshake (leaf first).
    pub fn check(&self, chain: Option<&[CertificateDer<'static>]>) -> Result<(), Refusal> {
        let Some((leaf, intermediates)) = chain.and_then(|c| c.split_first()) else {
            return if self.required() {
                Err(Refusal::NoCertificate)
            } else {
                Ok(())
            };
        };
        self.verifier
            .verify_client_cert(leaf, intermediates, UnixTime::now())
            .map_err(|e| Refusal::Untrusted(e.to_string()))?;
        if self.allowed_thumbprints.is_empty() {
            return Ok(());
        }
        let sha1 = sha1_thumbprint(leaf);
        let sha256 = sha256_fingerprint(leaf);
        if self
            .allowed_thumbprints
            .iter()
            .any(|allowed| *allowed == sha1 || *allowed == sha256)
        {
            Ok(())
        } else {
            Err(Refusal::NotAllowed)
        }
    }
}

/// How a certificate is named in logs: its SHA-256 and SHA-1 thumbprints.
pub fn describe(leaf: Option<&CertificateDer<'_>>) -> String {
    match leaf {
        Some(leaf) => format!(
            "SHA-256 {} (SHA-1 {})",
            sha256_fingerprint(leaf),
            sha1_thumbprint(leaf)
        ),
        None => "none".to_owned(),
    }
}

fn webpki_verifier(
    roots: &[CertificateDer<'static>],
    allow_unauthenticated: bool,
) -> Result<Arc<dyn ClientCertVerifier>> {
    let mut store = RootCertStore::empty();
    for (index, root) in roots.iter().enumerate() {
        store
            .add(root.clone())
            .map_err(|e| anyhow!("certificate #{} cannot be a trust anchor: {e}", index + 1))?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider);
    let builder = if allow_unauthenticated {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    Ok(builder.build()?)
}

/// The verifier for handshakes on `host`, when any of its routes uses client
/// certificates: the union of their CAs, mandatory only when every route requires one.
pub fn handshake_verifier<'a>(
    host: &str,
    routes: impl Iterator<Item = &'a Route>,
) -> Result<Option<Arc<dyn ClientCertVerifier>>> {
    let mut roots = Vec::new();
    let mut every_route_requires = true;
    let mut any = false;
    for route in routes {
        match &route.client_auth {
            Some(policy) => {
                any = true;
                every_route_requires &= policy.required();
                for root in &policy.roots {
                    if !roots.contains(root) {
                        roots.push(root.clone());
                    }
                }
            }
            None => every_route_requires = false,
        }
    }
    if !any {
        return Ok(None);
    }
    let inner = webpki_verifier(&roots, !every_route_requires)
        .with_context(|| format!("client certificate settings for {host}"))?;
    Ok(Some(Arc::new(LoggingVerifier {
        host: host.to_owned(),
        inner,
    })))
}

/// Logs, with the thumbprint, every certificate the handshake refuses.
#[derive(Debug)]
struct LoggingVerifier {
    host: String,
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for LoggingVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verdict = self
            .inner
            .verify_client_cert(end_entity, intermediates, now);
        if let Err(err) = &verdict {
            tracing::warn!(
                "client certificate refused in the handshake for {}: {}: {err}",
                self.host,
                describe(Some(end_entity))
            );
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
