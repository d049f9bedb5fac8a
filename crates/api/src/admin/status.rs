//! `GET /api/status` and `GET /api/alerts`: the managed certificates' expiry states, the
//! ACME progress of every domain with ACME on, the renewals from the server's own CAs,
//! and the alerts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The answer of `GET /api/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusJson {
    /// Every managed certificate, each once.
    pub certificates: Vec<StatusCertificateJson>,
    /// Every domain with ACME on.
    pub acme: Vec<AcmeProgressJson>,
    /// Every domain whose certificate one of the server's CAs issued and renews.
    #[serde(default)]
    pub ca_renewals: Vec<CaRenewalJson>,
    /// The edge's alert counts.
    pub alerts: AlertCountsJson,
    /// The server's `[monitor] warn_days`: certificates expiring within this many days
    /// are `warning` (`scan` follows it when it can ask).
    #[serde(default)]
    pub warn_days: Option<u32>,
}

/// The expiry state of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExpiryStateJson {
    /// Valid beyond the warning window.
    Ok,
    /// Expires within `[monitor] warn_days`.
    Warning,
    /// Past notAfter.
    Expired,
}

impl ExpiryStateJson {
    /// The state as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryStateJson::Ok => "ok",
            ExpiryStateJson::Warning => "warning",
            ExpiryStateJson::Expired => "expired",
        }
    }
}

/// A certificate's place in the chain it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChainRoleJson {
    /// The end-entity certificate.
    Leaf,
    /// A CA between the leaf and the root.
    Intermediate,
    /// A self-signed CA.
    Root,
}

impl ChainRoleJson {
    /// The role as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChainRoleJson::Leaf => "leaf",
            ChainRoleJson::Intermediate => "intermediate",
            ChainRoleJson::Root => "root",
        }
    }
}

/// One managed certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCertificateJson {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// The domain it belongs to, or null.
    pub domain: Option<String>,
    /// What uses it: `domain NAME`, `certdir ROLE`, `default`, `platform NAME service
    /// SERVICE` or `scan TARGET`.
    pub used_by: String,
    /// Its place in that chain.
    pub role: ChainRoleJson,
    /// SHA-1 thumbprint.
    pub sha1_thumbprint: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days until notAfter (negative once expired).
    pub days_remaining: i64,
    /// Expiry state.
    pub state: ExpiryStateJson,
}

/// One ACME domain's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AcmeProgressJson {
    /// The domain.
    pub domain: String,
    /// When its certificate is due for renewal (RFC 3339).
    pub renew_at: Option<String>,
    /// Consecutive failed attempts.
    pub failures: u32,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When the next attempt is made (RFC 3339).
    pub next_attempt: Option<String>,
    /// The last successful issuance (RFC 3339).
    pub last_success: Option<String>,
}

/// One domain whose certificate a server CA issued and renews automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaRenewalJson {
    /// The domain.
    pub domain: String,
    /// The server CA that issued the certificate and renews it.
    pub ca: String,
    /// When the certificate is due for renewal (RFC 3339).
    pub renew_at: Option<String>,
    /// Consecutive failed renewals.
    pub failures: u32,
    /// The last renewal's error.
    pub last_error: Option<String>,
    /// When the next attempt is made after a failure (RFC 3339).
    pub next_attempt: Option<String>,
    /// The last successful renewal (RFC 3339).
    pub last_success: Option<String>,
}

/// Counts of the edge's alerts since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertCountsJson {
    /// Expired domain certificates served.
    pub expired: u64,
    /// Domain certificates served for names they do not cover.
    pub name_mismatch: u64,
    /// Failed certdir reloads.
    pub certdir_reload_failed: u64,
    /// Events dropped because the queue was full.
    pub dropped: u64,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertJson {
    /// `expired`, `name_mismatch`, `certdir_reload_failed`, `acme_failed`, ...
    pub kind: String,
    /// When (Unix seconds).
    pub at_unix: i64,
    /// The domain concerned, if any.
    pub domain: Option<String>,
    /// A sentence.
    pub message: String,
    /// How many times it happened since it was last logged.
    pub occurrences: u64,
}

/// The answer of `GET /api/alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertsJson {
    /// Totals since start.
    pub counts: AlertCountsJson,
    /// The latest alerts, oldest first.
    pub recent: Vec<AlertJson>,
}
