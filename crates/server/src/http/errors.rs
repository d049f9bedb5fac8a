//! JSON errors of the admin API: `{"error": message}` with 400 for bad input (naming the
//! field), 401 without credentials, 403 for a cookie-session change without its CSRF
//! token, 404 for an unknown domain or route, 409 for conflicts with the tree, 422 for a
//! platform model that cannot be planned as it stands.
//!
//! A 5xx answer (an internal error, or a panic in a handler: [`panic_response`]) is
//! `{"error": "internal error", "error_id": ID}` and nothing more; the details go to the
//! server's log (standard error) on one line with the same random id, so an
//! administrator can find them from what a client reports.

use crate::domain_service::DomainError;
use axum::extract::rejection::JsonRejection;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use certfleet_api::admin::errors::ErrorBody;
use certfleet_edge::EdgeError;

/// The only message a 5xx answer carries.
pub const INTERNAL_MESSAGE: &str = "internal error";

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
            message: "authentication required: send the admin token as a bearer token, or log in with POST /api/session".into(),
            id: None,
        }
    }

    /// 403: authenticated, but the request is refused (a cookie session's change
    /// without its CSRF token).
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
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

    /// 422: the request was understood, but what it names cannot be carried out as it
    /// stands (a platform model with an error); the message says where.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
            id: None,
        }
    }

    /// 500: logs `detail` with a fresh id; the answer carries only the id.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let id = error_id();
        tracing::error!("admin API internal error (error id {id}): {detail}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: INTERNAL_MESSAGE.into(),
            id: Some(id),
        }
    }

    /// The answer's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message the answer carries.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A fresh random id (16 hex digits) that ties an answer to its log line.
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
        let body = ErrorBody {
            error: self.message,
            error_id: self.id,
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750: a 401 names the scheme that would have worked.
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"certfleet admin\""),
            );
        }
        response
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

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Edge(err) => err.into(),
            DomainError::Invalid(message) => ApiError::bad_request(message),
            DomainError::NotFound(_) => ApiError::not_found(err.to_string()),
            DomainError::Storage(message) => ApiError::internal(message),
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

/// The answer for a panic in a handler (tower-http's `CatchPanicLayer`): the panic's
/// message goes to the log with a fresh error id, the client gets the id only.
pub fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    ApiError::internal(format!("a handler panicked: {detail}")).into_response()
}

/// Largest plain-text rejection body turned into JSON; longer ones are cut.
const REJECTION_TEXT_LIMIT: usize = 4096;

/// Makes every error answer JSON: axum's own rejections (a path segment that is not
/// UTF-8, a bad query string, a body too large, a method the route does not have) come
/// as plain text or empty; they become `{"error": text}` with the same status. HTML
/// answers (the web UI's error pages) stay as they are.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // JSON is kept, and so are the web UI's own HTML error pages (its "not found" page).
    let is_json_or_page = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.starts_with("application/json") || value.starts_with("text/html")
        });
    if !status.is_client_error() || is_json_or_page {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, REJECTION_TEXT_LIMIT).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).trim().to_owned(),
        _ => status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_ascii_lowercase(),
    };
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(CONTENT_LENGTH);
    let json = Json(ErrorBody {
        error: text,
        error_id: None,
    })
    .into_response();
    let (json_parts, json_body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    Response::from_parts(parts, json_body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn internal_errors_answer_an_id_and_nothing_else() {
        let response =
            ApiError::internal("redb: /var/lib/certfleet/store.redb is locked").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(response).await;
        assert_eq!(body["error"], INTERNAL_MESSAGE);
        let id = body["error_id"].as_str().unwrap();
        assert_eq!(id.len(), 16);
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
        assert!(!body.to_string().contains("redb"), "{body}");
    }

    #[tokio::test]
    async fn panics_become_internal_errors() {
        let response = panic_response(Box::new("index out of bounds in /src/x.rs"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(response).await;
        assert_eq!(body["error"], INTERNAL_MESSAGE);
        assert!(!body.to_string().contains("x.rs"), "{body}");
    }

    #[tokio::test]
    async fn client_errors_keep_their_message_and_carry_no_id() {
        let body = body_of(ApiError::bad_request("name: must not be empty").into_response()).await;
        assert_eq!(
            body,
            serde_json::json!({"error": "name: must not be empty"})
        );
    }
}
