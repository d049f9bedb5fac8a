//! The audit log of changes (`GET /api/audit`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One audit record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditRecordJson {
    /// Who made the change (`admin-token`, `ui-session`, `cli`, `acme-renewal`, ...).
    pub actor: String,
    /// What was done (`domain.add`, `domain.set-cert`, ...).
    pub action: String,
    /// The object changed, by name.
    pub object: String,
    /// Words about the change; never a secret.
    pub detail: Option<String>,
    /// When, RFC 3339 UTC.
    pub at: String,
}

/// A page of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditPageJson {
    /// How many records the log holds.
    pub total: usize,
    /// The records skipped before this page.
    pub offset: usize,
    /// The page size asked for.
    pub limit: usize,
    /// The records, newest first.
    pub records: Vec<AuditRecordJson>,
}
