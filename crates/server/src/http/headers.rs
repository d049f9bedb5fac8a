//! Security headers on every answer of the admin listener: a Content-Security-Policy
//! that allows only the listener's own scripts, styles and images and no framing,
//! `X-Frame-Options: DENY` for older browsers, `nosniff`, no referrer,
//! `Strict-Transport-Security` (the listener is HTTPS only: a browser that has seen it
//! once never tries plain HTTP for that host again, for a year), and
//! `Cache-Control: no-store` for the API and metrics (their answers are never to be kept
//! by a browser or proxy). A header a handler already set is left as it is.

use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The admin listener's Content-Security-Policy.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The admin listener's `Strict-Transport-Security`: one year.
pub const HSTS: &str = "max-age=31536000";

/// Adds the security headers to the answer.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let no_store = path.starts_with("/api/") || path == "/api" || path == "/metrics";
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(CONTENT_SECURITY_POLICY, CSP);
    set(X_FRAME_OPTIONS, "DENY");
    set(X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(REFERRER_POLICY, "no-referrer");
    set(STRICT_TRANSPORT_SECURITY, HSTS);
    if no_store {
        set(CACHE_CONTROL, "no-store");
    }
    response
}
