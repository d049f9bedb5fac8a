//! Authentication of every admin request, and CSRF protection of cookie sessions.
//!
//! A request is let through when it carries either
//! - `Authorization: Bearer TOKEN` with the token of `DATA_DIR/admin.token` (scripts and
//!   the CLI; not an ambient credential, so exempt from CSRF checks), or
//! - on `GET /metrics` only, `Authorization: Bearer TOKEN` with the read-only scrape
//!   token of `[metrics]` (a Prometheus server; refused with 401 on every other path), or
//! - the session cookie of an open UI session ([`super::sessions`]); then a change
//!   (any method but GET, HEAD, OPTIONS, TRACE) must also carry `X-CSRF-Token` equal to
//!   the session's CSRF token (synchronizer token), else 403.
//!
//! An `Authorization` header that is not the right token is refused even when a session
//! cookie comes with it. Every other failure gets the same 401 answer. The one route
//! that needs no credentials is the login itself (`POST /api/session`), which checks the
//! token in its body. The web UI's paths (`/`, `/ui/...`) pass through: each page checks
//! the session itself and sends a browser without one to the login page
//! (`crate::ui`). Secrets are compared in constant time and never logged; a
//! wrong bearer token counts as a failed login ([`super::login_throttle`]).

use super::errors::ApiError;
use super::login_throttle::{ClientAddr, LoginThrottle};
use super::sessions::{session_cookie, Sessions, CSRF_HEADER};
use crate::state::AppState;
use aws_lc_rs::constant_time::verify_slices_are_equal;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The login route, reachable without credentials.
pub const LOGIN_PATH: &str = "/api/session";

/// The metrics route, the one the `[metrics]` scrape token opens.
pub const METRICS_PATH: &str = "/metrics";

/// What the authentication middleware needs.
#[derive(Clone)]
pub struct Guard {
    /// The admin token lives here.
    pub state: Arc<AppState>,
    /// The open UI sessions.
    pub sessions: Arc<Sessions>,
    /// Failed logins by client address.
    pub throttle: Arc<LoginThrottle>,
}

/// Who made a request; handlers find it in the request's extensions.
#[derive(Clone)]
pub enum Caller {
    /// The admin token as a bearer token.
    Bearer,
    /// The `[metrics]` scrape token as a bearer token (`/metrics` only).
    MetricsReader,
    /// A UI session.
    Session {
        /// Its id (the cookie's value).
        id: Zeroizing<String>,
        /// Its CSRF token.
        csrf: Zeroizing<String>,
    },
}

impl Caller {
    /// Who the audit log names for a change this caller made.
    pub fn actor(&self) -> &'static str {
        match self {
            Caller::Bearer => "admin-token",
            Caller::MetricsReader => "metrics-token",
            Caller::Session { .. } => "ui-session",
        }
    }
}

/// Who the audit log names for a change, as a handler argument: `admin-token` or
/// `ui-session`, from the [`Caller`] the authentication put into the request (`unknown`
/// for a request that did not pass it, which no `/api/` route receives).
pub struct Actor(pub &'static str);

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Actor(
            parts
                .extensions
                .get::<Caller>()
                .map_or("unknown", Caller::actor),
        ))
    }
}

/// Lets the request through when it is authenticated (see the module's doc); 401 or
/// 403 otherwise.
pub async fn authenticate(
    State(guard): State<Guard>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if request.method() == Method::POST && request.uri().path() == LOGIN_PATH {
        return Ok(next.run(request).await);
    }
    // The web UI's pages check the session themselves (a page redirects to the login
    // page rather than answering 401), and its login page and assets need none.
    if crate::ui::is_ui_path(request.uri().path()) {
        return Ok(next.run(request).await);
    }
    let bearer = request.headers().contains_key(AUTHORIZATION);
    let client = request.extensions().get::<ClientAddr>().copied();
    if bearer {
        guard.throttle.pause(client).await;
    }
    let caller = match identify(
        &guard,
        request.method(),
        request.uri().path(),
        request.headers(),
    ) {
        Ok(caller) => caller,
        Err(err) => {
            // With an Authorization header, the one failure is a wrong token.
            if let Some(value) = request.headers().get(AUTHORIZATION).filter(|_| bearer) {
                guard
                    .throttle
                    .failed(client, "bearer token", value.as_bytes());
            }
            return Err(err);
        }
    };
    if bearer {
        guard.throttle.succeeded(client);
    }
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

fn identify(
    guard: &Guard,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let presented = value
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim);
        return match presented {
            Some(token) if token_matches(token, &guard.state.admin_token) => Ok(Caller::Bearer),
            Some(token) if path == METRICS_PATH && metrics_token_matches(guard, token) => {
                Ok(Caller::MetricsReader)
            }
            _ => Err(ApiError::unauthorized()),
        };
    }
    let id = session_cookie(headers).ok_or_else(ApiError::unauthorized)?;
    let csrf = guard
        .sessions
        .touch(&id)
        .ok_or_else(ApiError::unauthorized)?;
    if !method.is_safe() {
        let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if !presented.is_some_and(|token| token_matches(token, &csrf)) {
            return Err(ApiError::forbidden(
                "CSRF check failed: a change made through a UI session needs the X-CSRF-Token header with the session's CSRF token (from POST or GET /api/session)",
            ));
        }
    }
    Ok(Caller::Session { id, csrf })
}

/// True when `[metrics]` has a scrape token and `presented` is it.
fn metrics_token_matches(guard: &Guard, presented: &str) -> bool {
    guard
        .state
        .config
        .metrics
        .token
        .as_ref()
        .is_some_and(|token| token.matches(presented))
}

/// True when `presented` is `expected` (constant time; an empty secret never matches).
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
