//! The shapes of the admin API's JSON answers, for the OpenAPI document.
//!
//! The handlers build these answers from the edge's and the ACME side's own views (as
//! JSON values, with fields added), so the types here only describe them. They are kept
//! honest by the end-to-end test that runs schemathesis with its
//! `response_schema_conformance` check against a running server: an answer that does
//! not fit the document fails it. Request bodies are real types, in their handlers'
//! modules.

// Never built: these types exist for their schemas.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A domain (`domain show --json`).
#[derive(Serialize, ToSchema)]
pub struct DomainJson {
    /// The domain's name.
    pub name: String,
    /// The parent's name; null for the master.
    pub parent: Option<String>,
    /// The domain's own certificate, or null.
    pub certificate: Option<CertificateJson>,
    /// ACME settings and progress.
    pub acme: AcmeJson,
    /// The domain whose certificate a handshake naming this domain gets.
    pub effective_domain: Option<String>,
}

/// A certificate's summary (never its PEM or key).
#[derive(Serialize, ToSchema)]
pub struct CertificateJson {
    /// SHA-1 thumbprint, 40 upper-case hex digits.
    pub sha1_thumbprint: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// `DNS:name` and `IP:addr` entries.
    pub sans: Vec<String>,
    /// Issued through ACME.
    pub auto_issued: bool,
}

/// A domain's ACME settings; the progress fields only when ACME is on.
#[derive(Serialize, ToSchema)]
pub struct AcmeJson {
    /// Automatic issuance is on.
    pub enabled: bool,
    /// The ACME account's contact address.
    pub email: Option<String>,
    /// When the certificate is due for renewal (RFC 3339), null unless issued by ACME.
    pub renew_at: Option<String>,
    /// Consecutive failed attempts.
    pub failures: Option<u32>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When the next attempt is made (RFC 3339).
    pub next_attempt: Option<String>,
    /// The last successful issuance (RFC 3339).
    pub last_success: Option<String>,
}

/// The answer of `PUT /api/domains/{name}/certificate`.
#[derive(Serialize, ToSchema)]
pub struct CertificateSetJson {
    /// The domain with its new certificate.
    pub domain: DomainJson,
    /// What the check found worth saying (e.g. an expiry close at hand).
    pub warnings: Vec<String>,
}

/// Where a handshake's certificate comes from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceJson {
    /// A domain of the tree.
    Domain,
    /// The listener role's certdir.
    Certdir,
    /// The installation's default certificate.
    Default,
}

/// Which certificate a handshake naming a server name gets, and why.
#[derive(Serialize, ToSchema)]
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

/// Counts of the edge's alerts since start.
#[derive(Serialize, ToSchema)]
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
#[derive(Serialize, ToSchema)]
pub struct AlertJson {
    /// `expired`, `name_mismatch`, `certdir_reload_failed`, `acme_failed`.
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
#[derive(Serialize, ToSchema)]
pub struct AlertsJson {
    /// Totals since start.
    pub counts: AlertCountsJson,
    /// The latest alerts, oldest first.
    pub recent: Vec<AlertJson>,
}

/// The expiry state of a certificate.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExpiryStateJson {
    /// Valid beyond the warning window.
    Ok,
    /// Expires within `[monitor] warn_days`.
    Warning,
    /// Past notAfter.
    Expired,
}

/// One managed certificate in `GET /api/status`.
#[derive(Serialize, ToSchema)]
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
    /// `leaf`, `intermediate` or `root`.
    pub role: String,
    /// SHA-1 thumbprint.
    pub sha1_thumbprint: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days until notAfter (negative once expired).
    pub days_remaining: i64,
    /// Expiry state.
    pub state: ExpiryStateJson,
}

/// One ACME domain's progress in `GET /api/status`.
#[derive(Serialize, ToSchema)]
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

/// The answer of `GET /api/status`.
#[derive(Serialize, ToSchema)]
pub struct StatusJson {
    /// Every managed certificate, each once.
    pub certificates: Vec<StatusCertificateJson>,
    /// Every domain with ACME on.
    pub acme: Vec<AcmeProgressJson>,
    /// The edge's alert counts.
    pub alerts: AlertCountsJson,
}

/// `GET /api/scans`.
#[derive(Serialize, ToSchema)]
pub struct ScansJson {
    /// The latest scan record of every endpoint and SNI (fields as `certfleet scan
    /// --json` prints a result, with `scanned_at`).
    #[schema(value_type = Vec<Object>)]
    pub scans: Vec<serde_json::Value>,
}

/// `POST /api/scans`.
#[derive(Serialize, ToSchema)]
pub struct ScansRecordedJson {
    /// Records written.
    pub recorded: usize,
    /// Records left out because a newer scan of the same endpoint is stored.
    pub stale: usize,
}
