//! Endpoint scan records kept by the server (`certfleet scan --record`, `/api/scans`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /api/scans`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScansJson {
    /// The latest scan record of every endpoint and SNI (fields as `certfleet scan
    /// --json` prints a result, with `scanned_at`).
    #[schema(value_type = Vec<Object>)]
    pub scans: Vec<serde_json::Value>,
}

/// `POST /api/scans`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScansRecordedJson {
    /// Records written.
    pub recorded: usize,
    /// Records left out because a newer scan of the same endpoint is stored.
    pub stale: usize,
}
