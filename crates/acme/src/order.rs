//! One order: a certificate for one name, from a new ECDSA P-256 key, through HTTP-01 or
//! TLS-ALPN-01 (RFC 8555 section 7, RFC 8737).
//!
//! The answers are published through [`Challenges`] (so any node can answer) before the
//! server is told to validate, and withdrawn when the order ends either way.

use crate::challenges::Challenges;
use crate::error::{AcmeError, Result};
use certfleet_pki::csr::new_csr;
use certfleet_pki::keys::KeyAlgorithm;
use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewOrder, OrderStatus, RetryPolicy,
};
use std::time::Duration;
use zeroize::Zeroizing;

/// How long the server may take to validate, and to issue once finalized.
const POLL_TIMEOUT: Duration = Duration::from_secs(120);

/// The challenge an order answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// A file on the HTTP listener (port 80 as the ACME server sees it).
    Http01,
    /// A certificate on the HTTPS listener for ALPN `acme-tls/1` (port 443).
    TlsAlpn01,
}

impl ChallengeKind {
    fn acme_type(self) -> ChallengeType {
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

/// Orders a certificate for `name` and answers its challenge with `kind`.
pub async fn order_certificate(
    account: &Account,
    name: &str,
    kind: ChallengeKind,
    challenges: &Challenges,
) -> Result<Issued> {
    let identifiers = [Identifier::Dns(name.to_owned())];
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
    let mut tokens = Vec::new();
    let answered = answer_challenges(&mut order, name, kind, challenges, &mut tokens).await;
    let ready = match answered {
        Ok(()) => order
            .poll_ready(&RetryPolicy::new().timeout(POLL_TIMEOUT))
            .await
            .map_err(AcmeError::from),
        Err(err) => Err(err),
    };
    // Withdraw the answers whatever happened; a failure here only leaves stale entries.
    for token in &tokens {
        let _ = challenges.remove_http01(token).await;
    }
    if kind == ChallengeKind::TlsAlpn01 {
        let _ = challenges.remove_tls_alpn01(name).await;
    }
    match ready? {
        OrderStatus::Ready => {}
        other => {
            return Err(AcmeError::Invalid(format!(
                "order for {name} ended {other:?} after {} validation",
                kind.name()
            )))
        }
    }
    let request = new_csr(
        name,
        &[name.to_owned()],
        &[],
        false,
        KeyAlgorithm::EcdsaP256,
    )?;
    order.finalize_csr(&request.csr_der).await?;
    let chain_pem = order
        .poll_certificate(&RetryPolicy::new().timeout(POLL_TIMEOUT))
        .await?;
    Ok(Issued {
        key_pem: request.key.to_pem(),
        chain_pem,
    })
}

async fn answer_challenges(
    order: &mut instant_acme::Order,
    name: &str,
    kind: ChallengeKind,
    challenges: &Challenges,
    tokens: &mut Vec<String>,
) -> Result<()> {
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization?;
        match authorization.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => {
                return Err(AcmeError::Invalid(format!(
                    "the authorization for {name} is {other:?}"
                )))
            }
        }
        let mut challenge = authorization.challenge(kind.acme_type()).ok_or_else(|| {
            AcmeError::Invalid(format!(
                "the ACME server offers no {} challenge for {name}",
                kind.name()
            ))
        })?;
        let key_authorization = challenge.key_authorization();
        match kind {
            ChallengeKind::Http01 => {
                let token = challenge.token.clone();
                challenges
                    .publish_http01(&token, key_authorization.as_str())
                    .await?;
                tokens.push(token);
            }
            ChallengeKind::TlsAlpn01 => {
                challenges
                    .publish_tls_alpn01(name, key_authorization.digest().as_ref())
                    .await?;
            }
        }
        challenge.set_ready().await?;
    }
    Ok(())
}
