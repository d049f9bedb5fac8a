//! One order: a certificate for one name, from a new ECDSA P-256 key, through HTTP-01 or
//! TLS-ALPN-01 (RFC 8555 section 7, RFC 8737).
//!
//! The answers are published through [`Challenges`] (so any node can answer) before the
//! server is told to validate, and withdrawn when the order ends either way.

use crate::challenges::Challenges;
use crate::csr_order::order_with_csr;
use crate::error::Result;
use certfleet_pki::csr::new_csr;
use certfleet_pki::keys::KeyAlgorithm;
use instant_acme::{Account, ChallengeType};
use zeroize::Zeroizing;

/// The challenge an order answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// A file on the HTTP listener (port 80 as the ACME server sees it).
    Http01,
    /// A certificate on the HTTPS listener for ALPN `acme-tls/1` (port 443).
    TlsAlpn01,
}

impl ChallengeKind {
    pub(crate) fn acme_type(self) -> ChallengeType {
        match self {
            ChallengeKind::Http01 => ChallengeType::Http01,
            ChallengeKind::TlsAlpn01 => ChallengeType::TlsAlpn01,
        }
    }

    /// The name ACME gives it (`http-01`, `tls-alpn-01`).
    pub fn name(self) -> &'static str {
        match self {
            ChallengeKind::Http01 => "http-01",
            ChallengeKind::TlsAlpn01 => "tls-alpn-01",
        }
    }
}

/// What an order gives: the new key and the certificate chain, leaf first.
pub struct Issued {
    /// The private key, PKCS#8 PEM.
    pub key_pem: Zeroizing<String>,
    /// The certificate and its chain, PEM, as the server sent them.
    pub chain_pem: String,
}

/// Orders a certificate for `name` and answers its challenge with `kind`: a new key, and
/// the order finalised with its CSR ([`order_with_csr`]).
pub async fn order_certificate(
    account: &Account,
    name: &str,
    kind: ChallengeKind,
    challenges: &Challenges,
) -> Result<Issued> {
    let request = new_csr(
        name,
        &[name.to_owned()],
        &[],
        false,
        KeyAlgorithm::EcdsaP256,
    )?;
    let chain_pem = order_with_csr(account, &request.csr_der, kind, challenges).await?;
    Ok(Issued {
        key_pem: request.key.to_pem(),
        chain_pem,
    })
}
