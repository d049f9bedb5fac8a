//! The server's certificate authorities, CSR signing and CSR inspection (`/api/cas`,
//! `/api/csrs`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A CA's signing rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyJson {
    /// DNS suffixes the requested names must fall under; empty allows any name.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Longest validity granted, in days; null for no limit but the CA's own expiry.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 36500)]
    pub max_days: Option<u32>,
}

/// A CA as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaJson {
    /// The CA's name.
    pub name: String,
    /// Subject of the signing certificate (the intermediate when there is one).
    pub subject: String,
    /// Issuer of the signing certificate.
    pub issuer: String,
    /// End of the signing certificate's validity, RFC 3339.
    pub not_after: String,
    /// The root's SHA-1 thumbprint, 40 upper-case hex digits.
    pub root_sha1_thumbprint: String,
    /// The intermediate's SHA-1 thumbprint; null without an intermediate.
    pub intermediate_sha1_thumbprint: Option<String>,
    /// The keys' algorithm.
    pub key_algorithm: String,
    /// The signing rules.
    pub policy: PolicyJson,
    /// When the CA was made, RFC 3339.
    pub created_at: String,
}

/// The answer of `POST /api/cas/{name}/sign`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignedJson {
    /// The signed certificate, PEM.
    pub certificate: String,
    /// The chain above it (intermediate, then root), PEM.
    pub chain: String,
    /// The certificate's SHA-1 thumbprint.
    pub sha1_thumbprint: String,
    /// Its subject.
    pub subject: String,
    /// End of its validity, RFC 3339.
    pub not_after: String,
}

/// A CSR described.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CsrJson {
    /// The subject distinguished name.
    pub subject: String,
    /// The requested SANs (`DNS:name`, `IP:addr`); null without a SAN extension.
    pub sans: Option<Vec<String>>,
    /// `RSA`, `EC`, `Ed25519`, ...
    pub key_type: String,
    /// The key's size in bits.
    pub key_bits: u32,
    /// The CSR's self-signature verifies with its own key.
    pub signature_valid: bool,
}
