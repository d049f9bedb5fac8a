//! UI sessions (`/api/session`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a session is: the answer of `POST` and `GET /api/session`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    /// `session` (a UI session cookie) or `bearer` (the admin token).
    pub authenticated_by: String,
    /// The session's CSRF token, to send as `X-CSRF-Token` with every change; null for
    /// bearer callers, which need none.
    pub csrf_token: Option<String>,
    /// A session ends after this long without a request.
    pub idle_timeout_seconds: u64,
}
