//! Router tests of the admin API's safety: the OpenAPI document against the routes,
//! authentication of every route, UI sessions (time-out, CSRF), CORS, security headers
//! and error ids.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::api_routes;
use crate::http::assemble;
use crate::http::errors::ApiError;
use crate::http::sessions::{Sessions, SESSION_COOKIE};
use crate::startup;
use crate::state::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const ALLOWED_ORIGIN: &str = "https://ui.example.test:8443";

/// A started server's state (in a temporary data directory that lives as long).
async fn state() -> (tempfile::TempDir, Arc<AppState>) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = certfleet_config::load(None, Some(dir.path())).unwrap();
    config.admin.cors_origins = vec![ALLOWED_ORIGIN.into()];
    let started = startup::start(config).await.unwrap();
    (dir, started.state)
}

fn app(state: &Arc<AppState>, idle: Duration) -> Router {
    assemble(api_routes(), Arc::clone(state), Sessions::new(idle))
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        headers,
        body,
    }
}

fn request(
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// Every (method, concrete path) of the document, `{name}` filled in.
fn operations(document: &Value) -> Vec<(Method, String)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let path = path
                .replace("{name}", "example.test")
                .replace("{platform}", "lab")
                .replace("{node}", "n1");
            all.push((method, path));
        }
    }
    all
}

#[tokio::test]
async fn the_document_lists_every_route_and_every_route_needs_credentials() {
    let (_dir, state) = state().await;
    let app = app(&state, Duration::from_secs(60));
    let token = format!("Bearer {}", state.admin_token.as_str());

    let answer = send(
        &app,
        request(
            Method::GET,
            "/api/openapi.json",
            &[("authorization", &token)],
            None,
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let document = answer.body;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());

    let mut paths: Vec<&str> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    // The routes registered in `api_routes`; routes! makes each one also an operation.
    assert_eq!(
        paths,
        [
            "/api/alerts",
            "/api/audit",
            "/api/cas",
            "/api/cas/{name}",
            "/api/cas/{name}/certificate",
            "/api/cas/{name}/issued",
            "/api/cas/{name}/sign",
            "/api/csrs/inspect",
            "/api/domains",
            "/api/domains/{name}",
            "/api/domains/{name}/acme",
            "/api/domains/{name}/certificate",
            "/api/domains/{name}/certificate/export",
            "/api/domains/{name}/certificate/issue",
            "/api/domains/{name}/parent",
            "/api/nodes",
            "/api/openapi.json",
            "/api/platforms",
            "/api/platforms/{name}",
            "/api/platforms/{name}/apply",
            "/api/platforms/{name}/plan",
            "/api/platforms/{platform}/csrs",
            "/api/platforms/{platform}/nodes/{node}",
            "/api/platforms/{platform}/nodes/{node}/tokens",
            "/api/platforms/{platform}/rollouts/{group}/resume",
            "/api/platforms/{platform}/rotation",
            "/api/platforms/{platform}/services/{service}/renew",
            "/api/platforms/{platform}/services/{service}/reply",
            "/api/resolve/{name}",
            "/api/scans",
            "/api/session",
            "/api/status",
        ]
    );

    let operations = operations(&document);
    assert!(operations.len() >= 12, "{operations:?}");
    let missing = Some(json!({}));
    for (method, path) in &operations {
        for credentials in [None, Some("Bearer wrong"), Some("Basic YWRtaW46YWRtaW4=")] {
            let headers: Vec<(&str, &str)> = credentials
                .iter()
                .map(|value| ("authorization", *value))
                .collect();
            let answer = send(
                &app,
                request(method.clone(), path, &headers, missing.clone()),
            )
            .await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {credentials:?}: {}",
                answer.body
            );
            assert!(answer.body["error"].is_string());
            assert!(answer.headers.contains_key("www-authenticate"));
        }
        // With the token every documented operation exists (no 404 route, no 405).
        let answer = send(
            &app,
            request(
                method.clone(),
                path,
                &[("authorization", &token)],
                missing.clone(),
            ),
        )
        .await;
        assert_ne!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        if answer.status == StatusCode::NOT_FOUND {
            // Only as the answer about a missing domain, CA or platform, never as a
            // missing route.
            let error = answer.body["error"].as_str().unwrap();
            assert!(
                error.contains("domain") || error.contains("CA") || error.contains("platform"),
                "{method} {path}: {}",
                answer.body
            );
        }
        assert!(!answer.status.is_server_error(), "{method} {path}");
    }
    // axum's own rejections answer JSON too.
    for (method, path) in [
        (Method::GET, "/api/resolve/%FF"),
        (Method::PATCH, "/api/domains"),
        (Method::GET, "/api/resolve/x?role=a&role=b"),
    ] {
        let answer = send(
            &app,
            request(method.clone(), path, &[("authorization", &token)], None),
        )
        .await;
        assert!(
            answer.status.is_client_error(),
            "{method} {path}: {}",
            answer.status
        );
        assert!(
            answer.body["error"].is_string(),
            "{method} {path}: {}",
            answer.body
        );
    }
    // Routes outside the document answer 401 without credentials as well (`/` is the
    // web UI's: it sends a browser to the login page, see serve::ui's tests).
    for path in ["/api/nothing", "/metrics", "/api"] {
        let answer = send(&app, request(Method::GET, path, &[], None)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

/// Routes under /api/ are added only through `routes!` (which documents them): no
/// module of the admin API adds one with a plain `.route(...)`, `.nest(...)` or
/// `.nest_service(...)`, which would serve a route the document does not list.
#[test]
fn no_api_route_bypasses_the_document() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/admin");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || name == "api_tests.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for call in [
            ".route(\"/api",
            ".nest(\"/api",
            ".nest_service(\"/api",
            ".route_service(\"/api",
        ] {
            assert!(!compact.contains(call), "{name} adds an /api/ route with {call}...): register it with routes! (docs/DESIGN.md)");
        }
        checked += 1;
    }
    assert!(checked >= 5, "{checked} files under {}", dir.display());
}

/// Logs in; returns the session cookie (`NAME=VALUE`) and the CSRF token.
async fn login(app: &Router, state: &AppState) -> (String, String) {
    let answer = send(
        app,
        request(
            Method::POST,
            "/api/session",
            &[],
            Some(json!({"token": state.admin_token.as_str()})),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let set_cookie = answer.headers["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with(SESSION_COOKIE), "{cookie}");
    assert!(!answer.body.to_string().contains(state.admin_token.as_str()));
    let csrf = answer.body["csrf_token"].as_str().unwrap().to_owned();
    (cookie, csrf)
}

#[tokio::test]
async fn sessions_need_csrf_tokens_for_changes_and_end_on_logout() {
    let (_dir, state) = state().await;
    let app = app(&state, Duration::from_secs(60));

    for body in [json!({"token": "wrong"}), json!({}), json!({"token": ""})] {
        let answer = send(&app, request(Method::POST, "/api/session", &[], Some(body))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(!answer.headers.contains_key("set-cookie"));
    }
    let (cookie, csrf) = login(&app, &state).await;
    let with_cookie = [("cookie", cookie.as_str())];
    let answer = send(
        &app,
        request(Method::GET, "/api/domains", &with_cookie, None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = send(
        &app,
        request(Method::GET, "/api/session", &with_cookie, None),
    )
    .await;
    assert_eq!(answer.body["csrf_token"], csrf.as_str());
    assert_eq!(answer.body["authenticated_by"], "session");

    let add = || Some(json!({"name": "example.test"}));
    for wrong in [None, Some("0000"), Some("")] {
        let mut headers = vec![("cookie", cookie.as_str())];
        if let Some(wrong) = wrong {
            headers.push(("x-csrf-token", wrong));
        }
        let answer = send(&app, request(Method::POST, "/api/domains", &headers, add())).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{wrong:?}");
        assert!(answer.body["error"].as_str().unwrap().contains("CSRF"));
    }
    let answer = send(
        &app,
        request(Method::DELETE, "/api/session", &with_cookie, None),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "logout is a change too"
    );
    let with_csrf = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let answer = send(
        &app,
        request(Method::POST, "/api/domains", &with_csrf, add()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);

    // Bearer callers are exempt: the token is no ambient credential.
    let token = format!("Bearer {}", state.admin_token.as_str());
    let answer = send(
        &app,
        request(
            Method::PUT,
            "/api/domains/example.test/acme",
            &[("authorization", &token)],
            Some(json!({"enabled": false})),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // A wrong bearer token is refused even beside a good session cookie.
    let answer = send(
        &app,
        request(
            Method::GET,
            "/api/domains",
            &[
                ("cookie", cookie.as_str()),
                ("authorization", "Bearer wrong"),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    let answer = send(
        &app,
        request(Method::DELETE, "/api/session", &with_csrf, None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(answer.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let answer = send(
        &app,
        request(Method::GET, "/api/domains", &with_cookie, None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn idle_sessions_time_out() {
    let (_dir, state) = state().await;
    let app = app(&state, Duration::from_millis(300));
    let (cookie, _) = login(&app, &state).await;
    let with_cookie = [("cookie", cookie.as_str())];
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let answer = send(
            &app,
            request(Method::GET, "/api/status", &with_cookie, None),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "activity keeps the session");
    }
    tokio::time::sleep(Duration::from_millis(450)).await;
    let answer = send(
        &app,
        request(Method::GET, "/api/status", &with_cookie, None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // Once timed out, it stays gone.
    let answer = send(
        &app,
        request(Method::GET, "/api/status", &with_cookie, None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cors_allows_the_listed_origins_only() {
    let (_dir, state) = state().await;
    let app = app(&state, Duration::from_secs(60));
    let token = format!("Bearer {}", state.admin_token.as_str());
    let preflight = |origin: &'static str| {
        request(
            Method::OPTIONS,
            "/api/domains",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type, x-csrf-token",
                ),
            ],
            None,
        )
    };

    let answer = send(&app, preflight(ALLOWED_ORIGIN)).await;
    assert!(answer.status.is_success(), "{}", answer.status);
    assert_eq!(
        answer.headers["access-control-allow-origin"],
        ALLOWED_ORIGIN
    );
    assert_eq!(answer.headers["access-control-allow-credentials"], "true");
    let methods = answer.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = answer.headers["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("x-csrf-token"), "{allowed}");

    let answer = send(
        &app,
        request(
            Method::GET,
            "/api/domains",
            &[("origin", ALLOWED_ORIGIN), ("authorization", &token)],
            None,
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers["access-control-allow-origin"],
        ALLOWED_ORIGIN
    );

    for other in [
        "https://evil.example.test",
        "null",
        "https://ui.example.test",
    ] {
        let answer = send(&app, preflight(other)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{other}");
        let answer2 = send(
            &app,
            request(
                Method::GET,
                "/api/domains",
                &[("origin", other), ("authorization", &token)],
                None,
            ),
        )
        .await;
        assert_eq!(answer2.status, StatusCode::OK);
        for headers in [&answer.headers, &answer2.headers] {
            let cors: Vec<_> = headers
                .keys()
                .filter(|name| name.as_str().starts_with("access-control-"))
                .collect();
            assert!(cors.is_empty(), "{other}: {cors:?}");
        }
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let (_dir, state) = state().await;
    let app = app(&state, Duration::from_secs(60));
    let token = format!("Bearer {}", state.admin_token.as_str());
    for (path, auth) in [
        ("/api/status", Some(token.as_str())),
        ("/api/status", None),
        ("/api/nothing", Some(token.as_str())),
    ] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|t| ("authorization", *t)).collect();
        let answer = send(&app, request(Method::GET, path, &headers, None)).await;
        let h = &answer.headers;
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn internal_errors_and_panics_answer_an_error_id_without_internals() {
    let (_dir, state) = state().await;
    async fn failing() -> Result<(), ApiError> {
        Err(ApiError::internal(
            "store /var/lib/certfleet/store.redb: database is locked",
        ))
    }
    async fn panicking() -> &'static str {
        panic!("secret detail at crates/certfleet/src/serve/x.rs:1")
    }
    let routes = api_routes()
        .route("/api/test/failing", axum::routing::get(failing))
        .route("/api/test/panicking", axum::routing::get(panicking));
    let app = assemble(
        routes,
        Arc::clone(&state),
        Sessions::new(Duration::from_secs(60)),
    );
    let token = format!("Bearer {}", state.admin_token.as_str());
    let mut ids = Vec::new();
    for path in ["/api/test/failing", "/api/test/panicking"] {
        let answer = send(
            &app,
            request(Method::GET, path, &[("authorization", &token)], None),
        )
        .await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert_eq!(answer.body["error"], "internal error", "{}", answer.body);
        let id = answer.body["error_id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 16);
        let text = answer.body.to_string();
        for internal in ["redb", "locked", "secret", ".rs"] {
            assert!(!text.contains(internal), "{path}: {text}");
        }
        assert_eq!(answer.headers["x-content-type-options"], "nosniff");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    // Without credentials the failing routes are not even reached.
    let answer = send(&app, request(Method::GET, "/api/test/panicking", &[], None)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}
