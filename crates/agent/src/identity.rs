//! The agent's identity: its key (made on the node, `identity.key`), its client
//! certificate from the server's agents CA, and that CA, the only one it trusts when it
//! talks to the server. Saved after enrolment and after each renewal; read into the
//! mutual-TLS settings of every request.

use crate::atomic::{self, Ownership};
use crate::data_dir::{DataDir, Enrollment};
use crate::error::{AgentError, Result};
use crate::material;
use certfleet_api::agent::Identity;
use certfleet_pki::keys::{KeyAlgorithm, PrivateKey};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

/// The algorithm of the agent's identity key.
pub const KEY_ALGORITHM: KeyAlgorithm = KeyAlgorithm::EcdsaP256;

/// The CN of the identity CSR (the server puts the node's URI in the certificate).
pub const CSR_NAME: &str = "certfleet-agent";

/// A fresh identity key.
pub fn new_key() -> Result<PrivateKey> {
    PrivateKey::generate(KEY_ALGORITHM)
        .map_err(|e| AgentError::Crypto(format!("cannot make the identity key: {e}")))
}

/// Checks that `identity` certifies `key` and saves both, the agents CA and the
/// enrolment (with `servers`) into `data`.
pub fn save(
    data: &DataDir,
    key: &PrivateKey,
    identity: &Identity,
    servers: Vec<String>,
) -> Result<Enrollment> {
    let cert = material::first_certificate("the identity certificate", &identity.certificate_pem)?;
    if !material::certifies("the identity certificate", &cert, key)? {
        return Err(AgentError::Crypto(
            "the server's identity certificate is not for the key this agent sent".into(),
        ));
    }
    material::first_certificate("the agents CA", &identity.agents_ca_pem)?;
    atomic::private_dir(data.root())?;
    atomic::write(
        &data.identity_key(),
        key.to_pem().as_bytes(),
        Ownership::mode(0o600),
    )?;
    atomic::write(
        &data.identity_cert(),
        identity.certificate_pem.as_bytes(),
        Ownership::mode(0o644),
    )?;
    atomic::write(
        &data.agents_ca(),
        identity.agents_ca_pem.as_bytes(),
        Ownership::mode(0o644),
    )?;
    let enrollment = Enrollment {
        platform: identity.platform.clone(),
        node: identity.node.clone(),
        servers,
        not_after: identity.not_after,
        renew_after: identity.renew_after,
    };
    data.save_enrollment(&enrollment)?;
    Ok(enrollment)
}

/// The mutual-TLS settings: the identity as client certificate, the agents CA as the
/// only trust anchor.
pub fn tls_config(data: &DataDir) -> Result<Arc<rustls::ClientConfig>> {
    let read = |path: std::path::PathBuf| -> Result<String> {
        std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AgentError::NotEnrolled(format!(
                "{} is missing; run `certfleet agent enroll`",
                path.display()
            )),
            _ => AgentError::io(&path, &e),
        })
    };
    let key_path = data.identity_key();
    let key_pem = zeroize::Zeroizing::new(read(key_path.clone())?);
    let key =
        PrivateKey::from_bytes(key_pem.as_bytes()).map_err(|e| AgentError::file(&key_path, e))?;
    let chain = material::certificates("identity.crt", &read(data.identity_cert())?)?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in material::certificates("agents-ca.pem", &read(data.agents_ca())?)? {
        roots
            .add(ca)
            .map_err(|e| AgentError::file(&data.agents_ca(), e))?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AgentError::Crypto(format!("TLS settings: {e}")))?
        .with_root_certificates(roots)
        .with_client_auth_cert(
            chain,
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der().to_vec())),
        )
        .map_err(|e| AgentError::file(&data.identity_cert(), e))?;
    Ok(Arc::new(config))
}
