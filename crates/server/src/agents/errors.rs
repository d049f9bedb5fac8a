//! Errors of the agent listener: `{"error": message}` with the status the agent protocol
//! names (400 bad input, 401 no or unknown credentials, 403 refused, 404 unknown, 409
//! not possible as configured). A 5xx answer carries only an id; the details go to the
//! server's log with the same id. Messages never hold a key, a token or a password.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error answer of the agent listener (and of the admin API's node routes).
#[derive(Debug, Clone)]
pub struct AgentError {
    status: StatusCode,
    message: String,
}

impl AgentError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AgentError {
            status,
            message: message.into(),
        }
    }

    /// 400: bad input; the message names the field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: no credentials, or credentials the server does not know.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403: known credentials that do not allow this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409: not possible as the server is configured.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 500: logs `detail` with a fresh id; the answer carries only the id.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let mut bytes = [0u8; 8];
        // Without randomness the id is all zeros: the log line is still there.
        let _ = aws_lc_rs::rand::fill(&mut bytes);
        let id = hex::encode(bytes);
        tracing::error!("agents: internal error (error id {id}): {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error (error id {id})"),
        )
    }

    /// The answer's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl IntoResponse for AgentError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}
