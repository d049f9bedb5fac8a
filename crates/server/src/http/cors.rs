//! CORS for the admin listener: an allow-list of origins from `[admin] cors_origins`.
//!
//! A request whose `Origin` is on the list gets `Access-Control-Allow-Origin` echoing it
//! and `Access-Control-Allow-Credentials: true` (the list never holds a wildcard); its
//! preflight is answered here, before authentication, since browsers send preflights
//! without credentials. A request from any other origin gets no CORS header at all, and
//! its preflight goes on like any request (to a 401), so the browser refuses it.
//!
//! Written here rather than with tower-http's `CorsLayer`, which answers every OPTIONS
//! request as a preflight with the allowed methods, headers and credentials flag, also
//! for origins not on the list.

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
    VARY,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Methods an allowed origin may use.
const METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
/// Request headers an allowed origin may send.
const HEADERS: &str = "authorization, content-type, x-csrf-token";
/// How long a browser may cache a preflight's answer (seconds).
const MAX_AGE: &str = "600";

/// The allowed origins, as `scheme://host[:port]` in lower case.
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    origins: Vec<String>,
}

impl CorsPolicy {
    /// A policy allowing exactly `origins` (validated by the configuration).
    pub fn new(origins: &[String]) -> Self {
        CorsPolicy {
            origins: origins.iter().map(|o| o.to_ascii_lowercase()).collect(),
        }
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        origin.to_str().is_ok_and(|origin| {
            let origin = origin.to_ascii_lowercase();
            self.origins.contains(&origin)
        })
    }
}

/// The CORS middleware (see the module's doc).
pub async fn cors(State(policy): State<Arc<CorsPolicy>>, request: Request, next: Next) -> Response {
    let allowed = request
        .headers()
        .get(ORIGIN)
        .filter(|origin| policy.allows(origin))
        .cloned();
    let Some(origin) = allowed else {
        let mut response = next.run(request).await;
        response
            .headers_mut()
            .append(VARY, HeaderValue::from_static("origin"));
        return response;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(METHODS),
        );
        headers.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(HEADERS),
        );
        headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
        response
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    headers.append(VARY, HeaderValue::from_static("origin"));
    response
}
