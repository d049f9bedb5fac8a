//! The platforms the server's configuration names (`GET /api/platforms`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A configured platform, as `GET /api/platforms` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlatformSummary {
    /// The model's `[platform] name`.
    pub name: String,
    /// The model file.
    pub model: String,
    /// Where every output goes instead of its own path, when set.
    pub root: Option<String>,
    /// Whether an apply runs the model's reload commands.
    pub run_reloads: bool,
}
