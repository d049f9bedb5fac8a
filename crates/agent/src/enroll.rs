//! Enrolment: `certfleet agent enroll --server URL --token cfa1.<secret>.<ca-pin>`. The
//! agent makes its identity key, sends a CSR with the token to the agent listener (which
//! it trusts by the token's CA pin, as it does not have the CA yet), checks the answer and
//! saves the identity, the agents CA and the server URL into the data directory.

use crate::data_dir::{DataDir, Enrollment};
use crate::error::{AgentError, Result};
use crate::pin::CaPinVerifier;
use crate::transport::{Transport, REQUEST_TIMEOUT};
use crate::{identity, material};
use certfleet_api::agent::{EnrollRequest, Identity, PREFIX};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The token's version prefix.
pub const TOKEN_PREFIX: &str = "cfa1";

/// An enrolment token, read.
#[derive(Clone)]
pub struct Token {
    /// The whole token, as the server wants it back.
    text: Zeroizing<String>,
    /// The SHA-256 of the agents CA certificate.
    pub ca_pin: [u8; 32],
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Token")
            .field("ca_pin", &hex::encode(self.ca_pin))
            .finish_non_exhaustive()
    }
}

impl Token {
    /// Reads `cfa1.<secret>.<ca-pin>`; the error never repeats the token.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            AgentError::Crypto(format!(
                "--token: not an enrolment token ({why}); it looks like cfa1.<secret>.<ca-pin>, as `certfleet node token` prints it"
            ))
        };
        let text = text.trim();
        let parts: Vec<&str> = text.split('.').collect();
        let [prefix, secret, pin] = parts.as_slice() else {
            return Err(bad("it has not three parts separated by dots"));
        };
        if *prefix != TOKEN_PREFIX {
            return Err(bad("it does not start with cfa1."));
        }
        if secret.is_empty() {
            return Err(bad("its secret is empty"));
        }
        let pin_bytes = hex::decode(pin).map_err(|_| bad("its CA pin is not hex"))?;
        let ca_pin: [u8; 32] = pin_bytes
            .try_into()
            .map_err(|_| bad("its CA pin is not a SHA-256"))?;
        Ok(Token {
            text: Zeroizing::new(text.to_owned()),
            ca_pin,
        })
    }
}

/// Enrols with `server` using `token` and saves everything into `data`.
pub fn enroll(data: &DataDir, server: &str, token: &Token) -> Result<Enrollment> {
    let key = identity::new_key()?;
    let csr_pem = material::csr_pem(identity::CSR_NAME, &key)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(CaPinVerifier::new(token.ca_pin, Arc::clone(&provider)));
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AgentError::Crypto(format!("TLS settings: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let transport = Transport::new(&[server.to_owned()], Arc::new(tls))?;
    let request = EnrollRequest {
        token: token.text.to_string(),
        csr_pem,
    };
    let identity: Identity = transport.call(
        hyper::Method::POST,
        &format!("{PREFIX}/enroll"),
        Some(&request),
        REQUEST_TIMEOUT,
    )?;
    let ca = material::first_certificate("the agents CA", &identity.agents_ca_pem)?;
    if Sha256::digest(ca.as_ref()).as_slice() != token.ca_pin {
        return Err(AgentError::Crypto(
            "the server's agents CA is not the one the token names; nothing saved".into(),
        ));
    }
    let enrollment = identity::save(data, &key, &identity, vec![server.to_owned()])?;
    tracing::info!(
        platform = %enrollment.platform,
        node = %enrollment.node,
        data_dir = %data.root().display(),
        "enrolled"
    );
    Ok(enrollment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_and_never_show_their_secret() {
        let pin = "ab".repeat(32);
        let token = Token::parse(&format!("cfa1.c2VjcmV0LXNlY3JldA.{pin}\n")).unwrap();
        assert_eq!(token.ca_pin, [0xab; 32]);
        assert!(!format!("{token:?}").contains("c2Vj"));
        for bad in [
            "cfa2.x.".to_owned() + &pin,
            "cfa1..".to_owned() + &pin,
            "cfa1.x.abcd".into(),
            "cfa1.x".into(),
            "cfa1.secret.zz".into(),
        ] {
            let e = Token::parse(&bad).unwrap_err().to_string();
            assert!(e.starts_with("--token: "), "{e}");
            assert!(!e.contains(bad.as_str()), "{e}");
        }
    }
}
