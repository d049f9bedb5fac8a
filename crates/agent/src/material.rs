//! Small pieces of certificate handling the agent needs everywhere: a CSR for a key the
//! node holds, a leaf's public key and thumbprint.

use crate::error::{AgentError, Result};
use certfleet_formats::pem;
use certfleet_pki::keys::PrivateKey;
use certfleet_pki::subject::SubjectAttributes;
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};

/// A PEM CSR for `key` with subject CN `cn` (a host name; the server takes only the
/// public key and the signature, the names come from the model).
pub fn csr_pem(cn: &str, key: &PrivateKey) -> Result<String> {
    let der = certfleet_pki::csr::csr_for_key(cn, &SubjectAttributes::default(), &[], &[], key)
        .or_else(|_| {
            // A service name that is not a host name: any name does, the server ignores it.
            certfleet_pki::csr::csr_for_key(
                "certfleet-agent",
                &SubjectAttributes::default(),
                &[],
                &[],
                key,
            )
        })
        .map_err(|e| AgentError::Crypto(format!("cannot make a CSR: {e}")))?;
    Ok(pem::encode("CERTIFICATE REQUEST", &der))
}

/// The certificates of a PEM text, in order.
pub fn certificates(what: &str, pem_text: &str) -> Result<Vec<CertificateDer<'static>>> {
    certfleet_pki::certs::parse_certificates(pem_text.as_bytes())
        .map_err(|e| AgentError::Crypto(format!("{what}: {e}")))
}

/// The one certificate of a PEM text (the first when there are more).
pub fn first_certificate(what: &str, pem_text: &str) -> Result<CertificateDer<'static>> {
    certificates(what, pem_text)?
        .into_iter()
        .next()
        .ok_or_else(|| AgentError::Crypto(format!("{what}: no certificate")))
}

/// The DER SubjectPublicKeyInfo of a certificate.
pub fn spki(what: &str, cert: &CertificateDer<'_>) -> Result<Vec<u8>> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| AgentError::Crypto(format!("{what}: {e}")))?;
    Ok(parsed.tbs_certificate.subject_pki.raw.to_vec())
}

/// True when `cert` certifies `key`'s public half.
pub fn certifies(what: &str, cert: &CertificateDer<'_>, key: &PrivateKey) -> Result<bool> {
    Ok(spki(what, cert)? == key.spki_der())
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
