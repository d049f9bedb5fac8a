//! The services' keys, made on the node with the model's algorithm the first time a
//! service needs one, kept in `keys/<service>.key` (0600) and never sent anywhere: the
//! server gets a CSR. A key of another algorithm than the model now asks for is replaced,
//! and so is a key a keys rotation asks to change.

use crate::atomic::{self, Ownership};
use crate::data_dir::DataDir;
use crate::error::{AgentError, Result};
use certfleet_pki::keys::{KeyAlgorithm, PrivateKey};
use zeroize::Zeroizing;

/// The key of `service`, made (and saved) when missing or of another algorithm than
/// `algorithm` (the model's name, e.g. `ecdsa-p256`).
pub fn load_or_make(data: &DataDir, service: &str, algorithm: &str) -> Result<PrivateKey> {
    let path = data.service_key(service)?;
    let wanted: KeyAlgorithm = algorithm
        .parse()
        .map_err(|e| AgentError::Crypto(format!("service {service}: the key algorithm: {e}")))?;
    match std::fs::read(&path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let key = PrivateKey::from_bytes(&bytes).map_err(|e| AgentError::file(&path, e))?;
            if key.algorithm() == wanted {
                return Ok(key);
            }
            tracing::info!(
                service,
                from = key.algorithm().name(),
                to = wanted.name(),
                "the model asks for another key algorithm; making a new key"
            );
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(AgentError::io(&path, &e)),
    }
    make(data, service, wanted)
}

/// Makes a new key of `algorithm` (the model's name) for `service`, replacing the one
/// it holds: a keys rotation asked for it.
pub fn make_new(data: &DataDir, service: &str, algorithm: &str) -> Result<PrivateKey> {
    let wanted: KeyAlgorithm = algorithm
        .parse()
        .map_err(|e| AgentError::Crypto(format!("service {service}: the key algorithm: {e}")))?;
    tracing::info!(service, "a key rotation asks for a new key");
    make(data, service, wanted)
}

/// Makes and saves a key of `wanted` for `service` (0600).
fn make(data: &DataDir, service: &str, wanted: KeyAlgorithm) -> Result<PrivateKey> {
    let path = data.service_key(service)?;
    let key = PrivateKey::generate(wanted)
        .map_err(|e| AgentError::Crypto(format!("service {service}: cannot make a key: {e}")))?;
    atomic::private_dir(data.root())?;
    atomic::write(&path, key.to_pem().as_bytes(), Ownership::mode(0o600))?;
    tracing::info!(service, algorithm = wanted.name(), "made the service's key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_key_is_made_once_private_and_replaced_for_another_algorithm() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("d"));
        let a = load_or_make(&data, "web", "ecdsa-p256").unwrap();
        let b = load_or_make(&data, "web", "ecdsa-p256").unwrap();
        assert_eq!(a.spki_der(), b.spki_der());
        let path = data.service_key("web").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let c = load_or_make(&data, "web", "ecdsa-p384").unwrap();
        assert_ne!(a.spki_der(), c.spki_der());
        assert!(load_or_make(&data, "web", "dsa-512").is_err());
    }
}
