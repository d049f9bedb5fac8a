//! The body of every error answer of the admin and agent APIs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An error: what went wrong, and for a server error only an id to find it in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong; for bad input it starts with the field's name.
    pub error: String,
    /// For a server error: the id its details are logged under.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_id: Option<String>,
}
