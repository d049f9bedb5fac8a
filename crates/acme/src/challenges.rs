//! Challenge answers, shared by every node.
//!
//! HTTP-01: the key authorization of each pending token is kept in the store
//! (`acme/http-01/TOKEN`), so whichever node the ACME server reaches on port 80 answers.
//! TLS-ALPN-01: the digest is kept in the store (`acme/tls-alpn-01/NAME`) and each node
//! holds the self-signed challenge certificate for it in memory, ready for the handshake
//! (which must do no I/O); [`Challenges::sync_tls_alpn01`] picks up what other nodes
//! published.

use crate::error::{AcmeError, Result};
use arc_swap::ArcSwap;
use certfleet_store::{keys, Key, Storage};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::collections::HashMap;
use std::sync::Arc;

/// The ALPN protocol of TLS-ALPN-01 (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The path prefix of HTTP-01 requests.
pub const HTTP01_PATH: &str = "/.well-known/acme-challenge/";

/// Pending challenge answers.
pub struct Challenges {
    store: Arc<dyn Storage>,
    /// Lower-case name → (hex digest, challenge certificate).
    tls_alpn: ArcSwap<HashMap<String, (String, Arc<CertifiedKey>)>>,
}

impl Challenges {
    /// Challenge answers kept in `store`.
    pub fn new(store: Arc<dyn Storage>) -> Challenges {
        Challenges {
            store,
            tls_alpn: ArcSwap::from_pointee(HashMap::new()),
        }
    }

    fn http01_key(token: &str) -> Result<Key> {
        Ok(keys::acme_http01(token)?)
    }

    fn tls_alpn01_key(name: &str) -> Result<Key> {
        Ok(keys::acme_tls_alpn01(name)?)
    }

    /// Publishes the answer to an HTTP-01 token.
    pub async fn publish_http01(&self, token: &str, key_authorization: &str) -> Result<()> {
        self.store
            .put(&Self::http01_key(token)?, key_authorization.as_bytes())
            .await?;
        Ok(())
    }

    /// The answer to `token`, when one is pending. Unknown or malformed tokens give `None`.
    pub async fn http01_answer(&self, token: &str) -> Result<Option<String>> {
        let Ok(key) = Self::http01_key(token) else {
            return Ok(None);
        };
        let entry = self.store.get(&key).await?;
        Ok(entry.and_then(|entry| String::from_utf8(entry.value).ok()))
    }

    /// Withdraws an HTTP-01 answer.
    pub async fn remove_http01(&self, token: &str) -> Result<()> {
        self.store.delete(&Self::http01_key(token)?).await?;
        Ok(())
    }

    /// Publishes a TLS-ALPN-01 answer for `name`: `digest` is the SHA-256 of the key
    /// authorization.
    pub async fn publish_tls_alpn01(&self, name: &str, digest: &[u8]) -> Result<()> {
        let name = name.to_ascii_lowercase();
        let digest_hex = hex::encode(digest);
        self.install(&name, &digest_hex)?;
        self.store
            .put(&Self::tls_alpn01_key(&name)?, digest_hex.as_bytes())
            .await?;
        Ok(())
    }

    /// Withdraws the TLS-ALPN-01 answer for `name`.
    pub async fn remove_tls_alpn01(&self, name: &str) -> Result<()> {
        let name = name.to_ascii_lowercase();
        self.store.delete(&Self::tls_alpn01_key(&name)?).await?;
        self.tls_alpn.rcu(|current| {
            let mut next = HashMap::clone(current);
            next.remove(&name);
            next
        });
        Ok(())
    }

    /// The challenge certificate for a handshake offering `acme-tls/1` for `name`
    /// (lower-case). No I/O, no lock.
    pub fn tls_alpn01_certificate(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        self.tls_alpn
            .load()
            .get(name)
            .map(|(_, key)| Arc::clone(key))
    }

    /// Makes this node's set of TLS-ALPN-01 certificates match the store's answers.
    pub async fn sync_tls_alpn01(&self) -> Result<()> {
        let prefix = keys::acme_tls_alpn01s()?;
        let stored: HashMap<String, String> = self
            .store
            .list(&prefix)
            .await?
            .into_iter()
            .filter_map(|entry| {
                let digest = String::from_utf8(entry.value).ok()?;
                Some((entry.key.name().to_owned(), digest))
            })
            .collect();
        let current = self.tls_alpn.load_full();
        let unchanged = stored.len() == current.len()
            && stored
                .iter()
                .all(|(name, digest)| current.get(name).is_some_and(|(have, _)| have == digest));
        if unchanged {
            return Ok(());
        }
        let mut next = HashMap::new();
        for (name, digest) in stored {
            let certified = match current.get(&name) {
                Some((have, key)) if *have == digest => Arc::clone(key),
                _ => Arc::new(challenge_certificate(&name, &digest)?),
            };
            next.insert(name, (digest, certified));
        }
        self.tls_alpn.store(Arc::new(next));
        Ok(())
    }

    fn install(&self, name: &str, digest_hex: &str) -> Result<()> {
        let certified = Arc::new(challenge_certificate(name, digest_hex)?);
        self.tls_alpn.rcu(|current| {
            let mut next = HashMap::clone(current);
            next.insert(
                name.to_owned(),
                (digest_hex.to_owned(), Arc::clone(&certified)),
            );
            next
        });
        Ok(())
    }
}

/// The self-signed certificate of RFC 8737: the name as its only SAN and the critical
/// acmeIdentifier extension holding the digest.
fn challenge_certificate(name: &str, digest_hex: &str) -> Result<CertifiedKey> {
    let digest = hex::decode(digest_hex)
        .map_err(|e| AcmeError::Pki(format!("TLS-ALPN-01 digest for {name}: {e}")))?;
    let pki = |e: rcgen::Error| AcmeError::Pki(format!("TLS-ALPN-01 certificate for {name}: {e}"));
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).map_err(pki)?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(&digest)];
    let key_pair = rcgen::KeyPair::generate().map_err(pki)?;
    let cert = params.self_signed(&key_pair).map_err(pki)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key_der)
        .map_err(|e| AcmeError::Pki(format!("TLS-ALPN-01 key for {name}: {e}")))?;
    Ok(CertifiedKey::new(vec![cert.der().clone()], signing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_store::memory::MemoryStore;

    #[tokio::test]
    async fn answers_are_shared_through_the_store() {
        let store: Arc<dyn Storage> = Arc::new(MemoryStore::new());
        let here = Challenges::new(Arc::clone(&store));
        let there = Challenges::new(Arc::clone(&store));
        here.publish_http01("tok-1", "tok-1.thumb").await.unwrap();
        assert_eq!(
            there.http01_answer("tok-1").await.unwrap().as_deref(),
            Some("tok-1.thumb")
        );
        assert_eq!(there.http01_answer("../x").await.unwrap(), None);
        here.remove_http01("tok-1").await.unwrap();
        assert_eq!(there.http01_answer("tok-1").await.unwrap(), None);

        here.publish_tls_alpn01("App.Example.Test", &[7u8; 32])
            .await
            .unwrap();
        assert!(here.tls_alpn01_certificate("app.example.test").is_some());
        assert!(there.tls_alpn01_certificate("app.example.test").is_none());
        there.sync_tls_alpn01().await.unwrap();
        let served = there.tls_alpn01_certificate("app.example.test").unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&served.cert[0]).unwrap();
        let acme_id = cert
            .extensions()
            .iter()
            .find(|ext| ext.oid.to_id_string() == "1.3.6.1.5.5.7.1.31")
            .unwrap();
        assert!(acme_id.critical);
        // OCTET STRING of the 32-byte digest.
        assert_eq!(&acme_id.value[2..], &[7u8; 32]);
        here.remove_tls_alpn01("app.example.test").await.unwrap();
        there.sync_tls_alpn01().await.unwrap();
        assert!(there.tls_alpn01_certificate("app.example.test").is_none());
    }
}
