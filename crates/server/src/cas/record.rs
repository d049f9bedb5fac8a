//! What the server knows about a CA without opening its keys: its certificates, key
//! algorithm, signing policy and creation time.

use certfleet_pki::csr::SigningPolicy;
use rustls_pki_types::CertificateDer;
use serde::{Deserialize, Serialize};

/// The rules a CA applies when it signs a CSR.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaPolicy {
    /// DNS suffixes the requested names must fall under; empty allows any name.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Longest validity granted, in days; none for no limit but the CA's own expiry.
    #[serde(default)]
    pub max_days: Option<u32>,
}

impl CaPolicy {
    /// The policy as pki's signing rules.
    pub fn signing_policy(&self) -> SigningPolicy {
        SigningPolicy {
            allowed_domains: self.allowed_domains.clone(),
            max_days: self.max_days,
            deny_client: false,
        }
    }
}

/// A CA's public side.
#[derive(Debug, Clone)]
pub struct CaInfo {
    /// The CA's name.
    pub name: String,
    /// The self-signed root.
    pub root: CertificateDer<'static>,
    /// The issuing intermediate, when the CA has one (it then signs, not the root).
    pub intermediate: Option<CertificateDer<'static>>,
    /// The keys' algorithm (`ecdsa-p256`, …).
    pub key_algorithm: String,
    /// The signing rules.
    pub policy: CaPolicy,
    /// When the CA was made, RFC 3339.
    pub created_at: String,
}

impl CaInfo {
    /// The certificate that signs: the intermediate when there is one, else the root.
    pub fn issuing(&self) -> &CertificateDer<'static> {
        self.intermediate.as_ref().unwrap_or(&self.root)
    }

    /// The CA's certificates for trust stores, root first.
    pub fn certificates(&self) -> Vec<CertificateDer<'static>> {
        std::iter::once(self.root.clone())
            .chain(self.intermediate.clone())
            .collect()
    }
}
