//! JSON errors of the admin API: `{"error": message}` with 400 for bad input (naming the
//! field), 401 without the token, 404 for an unknown domain or route, 409 for conflicts
//! with the tree. A 500 answer carries only an id and a generic message; the details go
//! to standard error with the same id.

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use certfleet_edge::EdgeError;
use serde_json::json;

/// An error answer of the admin API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    id: Option<String>,
}

impl ApiError {
    /// 400: bad input; the message names the field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            id: None,
        }
    }

    /// 401 with a message that tells nothing about the token.
    pub fn unauthorized() -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: "authentication required: send the admin token as a bearer token".into(),
            id: None,
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            id: None,
        }
    }

    /// 409: the change conflicts with the tree.
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::CONFLICT,
            message: message.into(),
            id: None,
        }
    }

    /// 500: logs `detail` with a fresh id; the answer carries only the id.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let id = error_id();
        eprintln!("admin API internal error {id}: {detail}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("internal error (id {id}); see the server's log"),
            id: Some(id),
        }
    }

    /// The message the answer carries.
    pub fn message(&self) -> &str {
        &self.message
    }
}

fn error_id() -> String {
    let mut bytes = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // No randomness: fall back to the clock, still unique enough to find the log line.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos as u64).to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self.id {
            Some(id) => json!({ "error": self.message, "id": id }),
            None => json!({ "error": self.message }),
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<EdgeError> for ApiError {
    fn from(err: EdgeError) -> Self {
        match err {
            EdgeError::InvalidName { .. }
            | EdgeError::Certificate(_)
            | EdgeError::NameNotCovered { .. }
            | EdgeError::Pki(_) => ApiError::bad_request(err.to_string()),
            EdgeError::UnknownDomain(_) => ApiError::not_found(err.to_string()),
            EdgeError::Tree(_) => ApiError::conflict(err.to_string()),
            other => ApiError::internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::bad_request(format!("request body: {}", rejection.body_text()))
    }
}

/// The answer for routes that do not exist.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such API route")
}
