//! Bearer-token authentication: `Authorization: Bearer TOKEN`, compared in constant time
//! with the token of `DATA_DIR/admin.token`. Any failure gets the same 401 answer.

use super::errors::ApiError;
use crate::serve::state::AppState;
use aws_lc_rs::constant_time::verify_slices_are_equal;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// Lets the request through when it carries the admin token; 401 otherwise.
pub async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim);
    match presented {
        Some(token) if token_matches(token, &state.admin_token) => Ok(next.run(request).await),
        _ => Err(ApiError::unauthorized()),
    }
}

/// True when `presented` is the admin token (constant time).
pub fn token_matches(presented: &str, expected: &str) -> bool {
    !expected.is_empty()
        && verify_slices_are_equal(presented.as_bytes(), expected.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::token_matches;

    #[test]
    fn only_the_exact_token_matches() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abd", "abc"));
        assert!(!token_matches("ab", "abc"));
        assert!(!token_matches("", ""));
    }
}
