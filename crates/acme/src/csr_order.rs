//! An order finalised with a CSR made elsewhere: the key stays where the CSR was made
//! (a node's agent), and the order is for exactly the names the CSR asks for.
//!
//! The identifiers are the CSR's DNS names (its CN and its DNS SANs, as an ACME server
//! compares them with the order); each authorization is answered through [`Challenges`]
//! for its own name, and every answer is withdrawn when the order ends either way.

use crate::challenges::Challenges;
use crate::error::{AcmeError, Result};
use crate::order::ChallengeKind;
use certfleet_pki::csr::read_csr;
use certfleet_pki::names::San;
use instant_acme::{
    Account, AuthorizationStatus, Identifier, NewOrder, Order, OrderStatus, RetryPolicy,
};
use std::time::Duration;

/// How long the server may take to validate, and to issue once finalized.
const POLL_TIMEOUT: Duration = Duration::from_secs(120);

/// The names an ACME order for `csr_der` must name: its CN and DNS SANs, lower-case,
/// sorted, each once. A CSR with an IP address, or with no name at all, is refused.
pub fn csr_names(csr_der: &[u8]) -> Result<Vec<String>> {
    let csr = read_csr(csr_der)?;
    let mut names: Vec<String> = csr.cn.iter().map(|cn| cn.to_ascii_lowercase()).collect();
    for san in csr.sans.unwrap_or_default() {
        match san {
            San::Dns(name) => names.push(name.to_ascii_lowercase()),
            San::Ip(ip) => {
                return Err(AcmeError::Invalid(format!(
                    "the CSR names the address {ip}: ACME orders here are for DNS names only"
                )))
            }
        }
    }
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(AcmeError::Invalid("the CSR names no DNS name".into()));
    }
    Ok(names)
}

/// Orders a certificate for the names of `csr_der` (DER), answers each authorization
/// with `kind`, finalises with that CSR and gives the certificate and its chain (PEM,
/// leaf first, as the ACME server sent them).
pub async fn order_with_csr(
    account: &Account,
    csr_der: &[u8],
    kind: ChallengeKind,
    challenges: &Challenges,
) -> Result<String> {
    let names = csr_names(csr_der)?;
    let identifiers: Vec<Identifier> = names.iter().cloned().map(Identifier::Dns).collect();
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
    let mut published = Published::default();
    let answered = answer_authorizations(&mut order, kind, challenges, &mut published).await;
    let ready = match answered {
        Ok(()) => order
            .poll_ready(&RetryPolicy::new().timeout(POLL_TIMEOUT))
            .await
            .map_err(AcmeError::from),
        Err(err) => Err(err),
    };
    published.withdraw(challenges).await;
    let listed = names.join(", ");
    match ready? {
        OrderStatus::Ready => {}
        other => {
            return Err(AcmeError::Invalid(format!(
                "the order for {listed} ended {other:?} after {} validation",
                kind.name()
            )))
        }
    }
    order.finalize_csr(csr_der).await?;
    Ok(order
        .poll_certificate(&RetryPolicy::new().timeout(POLL_TIMEOUT))
        .await?)
}

/// The answers an order published, withdrawn when it ends.
#[derive(Default)]
struct Published {
    http01_tokens: Vec<String>,
    tls_alpn01_names: Vec<String>,
}

impl Published {
    /// Withdraws every answer; a failure here only leaves stale entries behind.
    async fn withdraw(&self, challenges: &Challenges) {
        for token in &self.http01_tokens {
            let _ = challenges.remove_http01(token).await;
        }
        for name in &self.tls_alpn01_names {
            let _ = challenges.remove_tls_alpn01(name).await;
        }
    }
}

async fn answer_authorizations(
    order: &mut Order,
    kind: ChallengeKind,
    challenges: &Challenges,
    published: &mut Published,
) -> Result<()> {
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization?;
        let name = authorization.identifier().to_string();
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
                published.http01_tokens.push(token);
            }
            ChallengeKind::TlsAlpn01 => {
                challenges
                    .publish_tls_alpn01(&name, key_authorization.digest().as_ref())
                    .await?;
                published.tls_alpn01_names.push(name);
            }
        }
        challenge.set_ready().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use certfleet_pki::csr::new_csr;
    use certfleet_pki::keys::KeyAlgorithm;

    fn csr(cn: &str, dns: &[&str], ips: &[std::net::IpAddr]) -> Vec<u8> {
        let dns: Vec<String> = dns.iter().map(|d| (*d).to_owned()).collect();
        new_csr(cn, &dns, ips, false, KeyAlgorithm::EcdsaP256)
            .unwrap()
            .csr_der
    }

    #[test]
    fn the_order_names_the_csr_cn_and_dns_sans_once_each() {
        let der = csr(
            "Shop.Example.Test",
            &["www.example.test", "shop.example.test"],
            &[],
        );
        assert_eq!(
            csr_names(&der).unwrap(),
            ["shop.example.test", "www.example.test"]
        );
    }

    #[test]
    fn addresses_and_bad_signatures_are_refused() {
        let with_ip = csr("shop.example.test", &[], &["127.0.0.1".parse().unwrap()]);
        let err = csr_names(&with_ip).unwrap_err().to_string();
        assert!(err.contains("127.0.0.1"), "{err}");
        let mut tampered = csr("shop.example.test", &["shop.example.test"], &[]);
        let at = tampered.windows(4).position(|w| w == b"shop").unwrap();
        tampered[at] = b'x';
        let err = csr_names(&tampered).unwrap_err().to_string();
        assert!(err.contains("signature"), "{err}");
    }
}
