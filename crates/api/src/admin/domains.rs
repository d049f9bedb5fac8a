//! Domains: the requests that change them, the tree's view of each domain, a certificate's summary, ACME settings and
//! progress, and which certificate a handshake gets.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/domains`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDomain {
    /// The new domain's name.
    #[schema(min_length = 1)]
    pub name: String,
    /// Its parent; the master when absent (or the new master in an empty tree).
    #[serde(default)]
    pub parent: Option<String>,
}

/// `PUT /api/domains/{name}/certificate`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCertificate {
    /// The merged key + certificate + chain.
    #[schema(min_length = 1)]
    pub pem: String,
    /// Store it even when it does not cover the domain's name.
    #[serde(default)]
    pub force: bool,
}

/// `PUT /api/domains/{name}/acme`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAcme {
    /// The ACME account's contact address.
    #[serde(default)]
    pub email: Option<String>,
    /// Automatic issuance on or off.
    pub enabled: bool,
}

/// The shortest keystore password a certificate export accepts (keytool's minimum).
pub const EXPORT_MIN_PASSWORD: usize = 6;

/// A domain (`GET /api/domains/{name}`, `domain show --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DomainJson {
    /// The domain's name.
    pub name: String,
    /// The parent's name; null for the master.
    pub parent: Option<String>,
    /// The domain's own certificate, or null.
    pub certificate: Option<CertificateJson>,
    /// ACME settings and progress.
    pub acme: AcmeJson,
    /// The domain whose certificate a handshake naming this domain gets: itself, an
    /// ancestor, or null when none up to the master has one.
    pub effective_domain: Option<String>,
}

/// A certificate's summary (never its PEM or key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateJson {
    /// SHA-1 thumbprint, 40 upper-case hex digits.
    pub sha1_thumbprint: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// `DNS:name` and `IP:addr` entries.
    pub sans: Vec<String>,
    /// Issued automatically (through ACME, or by a server CA that renews it).
    pub auto_issued: bool,
    /// The server CA that issued it and renews it automatically; null otherwise.
    #[serde(default)]
    pub issuing_ca: Option<String>,
    /// Why it is not served: its stored private key could not be loaded when a handshake
    /// first needed it. Absent while it is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_error: Option<String>,
}

/// A domain's ACME settings; the progress fields only when ACME is on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AcmeJson {
    /// Automatic issuance is on.
    pub enabled: bool,
    /// The ACME account's contact address.
    pub email: Option<String>,
    /// When the certificate is due for renewal (RFC 3339), null unless issued by ACME.
    pub renew_at: Option<String>,
    /// Consecutive failed attempts (only when ACME is on).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub failures: Option<u32>,
    /// The last attempt's error (only when ACME is on).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_error: Option<Option<String>>,
    /// When the next attempt is made, RFC 3339 (only when ACME is on).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_attempt: Option<Option<String>>,
    /// The last successful issuance, RFC 3339 (only when ACME is on).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_success: Option<Option<String>>,
}

/// The answer of `PUT /api/domains/{name}/certificate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateSetJson {
    /// The domain with its new certificate.
    pub domain: DomainJson,
    /// What the check found worth saying (e.g. an expiry close at hand).
    pub warnings: Vec<String>,
}

/// Where a handshake's certificate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceJson {
    /// A domain of the tree.
    Domain,
    /// The listener role's certdir.
    Certdir,
    /// The installation's default certificate.
    Default,
}

/// Which certificate a handshake naming a server name gets, and why
/// (`GET /api/resolve/{name}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResolutionJson {
    /// The name asked about.
    pub sni: Option<String>,
    /// The listener role whose certdir applies.
    pub role: String,
    /// Where the certificate comes from.
    pub source: SourceJson,
    /// The domain whose certificate is served, or null.
    pub domain: Option<String>,
    /// SHA-1 thumbprint of the served leaf.
    pub sha1_thumbprint: String,
    /// End of the served leaf's validity, RFC 3339.
    pub not_after: String,
    /// One sentence: how the rule arrived here.
    pub reason: String,
    /// The served certificate has expired.
    pub expired: bool,
    /// The served certificate does not cover the name.
    pub name_mismatch: bool,
}
