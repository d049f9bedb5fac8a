//! Router tests of the web UI and the API routes it added: pages send a visitor without
//! a session to the login page and render for one, assets are served with their types
//! and validators, pages carry no inline script or style (the CSP), the export route
//! keeps the key inside password-protected keystores and needs the CSRF token, and the
//! audit route pages newest first without secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::http::router;
use crate::startup;
use crate::state::AppState;
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

async fn state() -> (tempfile::TempDir, Arc<AppState>) {
    let dir = tempfile::tempdir().unwrap();
    let config = certfleet_config::load(None, Some(dir.path())).unwrap();
    let started = startup::start(config).await.unwrap();
    (dir, started.state)
}

pub(super) struct Answer {
    pub(super) status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub(super) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: impl axum::http::header::AsHeaderName) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }
}

pub(super) async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    };
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: body.to_vec(),
    }
}

/// Logs in; the `Cookie` header value and the CSRF token.
pub(super) async fn login(app: &Router, state: &AppState) -> (String, String) {
    let answer = send(
        app,
        Method::POST,
        "/api/session",
        &[],
        Some(json!({"token": state.admin_token.as_str()})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let cookie = answer
        .header(SET_COOKIE)
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (
        cookie,
        answer.json()["csrf_token"].as_str().unwrap().to_owned(),
    )
}

/// A self-signed merged bundle whose CN and only DNS SAN are `name`.
fn bundle_pem(name: &str) -> String {
    certfleet_testkit::bundle_pem(&[name, name])
}

/// No `<script>` without `src` and no `style` attribute or element: the CSP allows
/// neither.
pub(super) fn assert_csp_clean(html: &str) {
    assert!(!html.contains("<script>"), "inline script in {html}");
    assert!(!html.contains("style="), "inline style in {html}");
    assert!(!html.contains("<style"), "style element in {html}");
}

#[tokio::test]
async fn pages_send_a_visitor_without_a_session_to_the_login_page() {
    let (_dir, state) = state().await;
    let app = router(Arc::clone(&state));
    for path in [
        "/",
        "/ui",
        "/ui/",
        "/ui/domains",
        "/ui/domains/x.test",
        "/ui/audit",
        "/ui/cas",
        "/ui/platforms",
        "/ui/platforms/lab",
    ] {
        let answer = send(&app, Method::GET, path, &[], None).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.header(LOCATION), "/ui/login", "{path}");
    }
    // A forged or stale cookie is no session either.
    let stale = "__Host-certfleet_session=00112233";
    let answer = send(&app, Method::GET, "/ui/", &[("cookie", stale)], None).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);

    let answer = send(&app, Method::GET, "/ui/login", &[], None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(answer.header("cache-control"), "no-store");
    assert!(answer
        .header("content-security-policy")
        .contains("script-src 'self'"));
    assert_csp_clean(&answer.text());
    assert!(answer.text().contains("id=\"token\""));
    // The API outside the UI still needs credentials.
    let answer = send(&app, Method::GET, "/api/domains", &[], None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn assets_are_served_with_their_types_and_revalidated() {
    let (_dir, state) = state().await;
    let app = router(state);
    for (file, kind) in [("app.css", "text/css"), ("app.js", "text/javascript")] {
        let path = format!("/ui/static/{file}");
        let answer = send(&app, Method::GET, &path, &[], None).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.header(CONTENT_TYPE).starts_with(kind));
        assert_eq!(answer.header("cache-control"), "no-cache");
        let etag = answer.header("etag").to_owned();
        let again = send(&app, Method::GET, &path, &[("if-none-match", &etag)], None).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
    }
    let answer = send(&app, Method::GET, "/ui/static/../admin.token", &[], None).await;
    assert_ne!(answer.status, StatusCode::OK);
    let answer = send(&app, Method::GET, "/ui/static/nothing.js", &[], None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_render_the_tree_the_certificate_and_the_audit_log_for_a_session() {
    let (_dir, state) = state().await;
    let app = router(Arc::clone(&state));
    let bearer = format!("Bearer {}", state.admin_token.as_str());
    let auth = [("authorization", bearer.as_str())];
    for body in [
        json!({"name": "example.test"}),
        json!({"name": "shop.example.test"}),
        json!({"name": "api.shop.example.test", "parent": "shop.example.test"}),
    ] {
        let answer = send(&app, Method::POST, "/api/domains", &auth, Some(body)).await;
        assert_eq!(answer.status, StatusCode::CREATED);
    }
    let answer = send(
        &app,
        Method::PUT,
        "/api/domains/shop.example.test/certificate",
        &auth,
        Some(json!({"pem": bundle_pem("shop.example.test")})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let sha1 = answer.json()["domain"]["certificate"]["sha1_thumbprint"]
        .as_str()
        .unwrap()
        .to_owned();

    let (cookie, csrf) = login(&app, &state).await;
    let with_cookie = [("cookie", cookie.as_str())];
    let answer = send(&app, Method::GET, "/ui/login", &with_cookie, None).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.header(LOCATION), "/ui/");

    let dashboard = send(&app, Method::GET, "/ui/", &with_cookie, None).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    let html = dashboard.text();
    assert_csp_clean(&html);
    assert!(html.contains(&format!("name=\"csrf-token\" content=\"{csrf}\"")));
    assert!(html.contains("<svg class=\"timeline-svg\""));
    assert!(html.contains("CN=shop.example.test"));

    let tree = send(&app, Method::GET, "/ui/domains", &with_cookie, None)
        .await
        .text();
    assert_csp_clean(&tree);
    let shop = tree.find(">shop.example.test</a>").unwrap();
    let api = tree.find(">api.shop.example.test</a>").unwrap();
    assert!(shop < api, "a child before its parent");
    assert!(tree.contains("inherited from shop.example.test"));
    assert!(tree.contains("the default certificate"));
    assert!(tree.contains("depth-2"));

    let page = send(
        &app,
        Method::GET,
        "/ui/domains/shop.example.test",
        &with_cookie,
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_csp_clean(&html);
    assert!(html.contains(&sha1));
    assert!(html.contains("DNS:shop.example.test"));
    assert!(!html.contains("PRIVATE KEY"));

    let missing = send(
        &app,
        Method::GET,
        "/ui/domains/nope.test",
        &with_cookie,
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("no domain is named nope.test"));

    let graph = send(&app, Method::GET, "/ui/trust", &with_cookie, None)
        .await
        .text();
    assert_csp_clean(&graph);
    assert!(graph.contains("served for domain shop.example.test"));
    assert!(graph.contains("served for the default certificate"));

    let audit = send(&app, Method::GET, "/ui/audit", &with_cookie, None)
        .await
        .text();
    assert_csp_clean(&audit);
    assert!(audit.contains("domain.set-cert"));
}

#[tokio::test]
async fn exports_keep_the_key_inside_password_protected_keystores() {
    let (_dir, state) = state().await;
    let app = router(Arc::clone(&state));
    let bearer = format!("Bearer {}", state.admin_token.as_str());
    let auth = [("authorization", bearer.as_str())];
    send(
        &app,
        Method::POST,
        "/api/domains",
        &auth,
        Some(json!({"name": "example.test"})),
    )
    .await;
    let path = "/api/domains/example.test/certificate/export";
    let answer = send(
        &app,
        Method::POST,
        path,
        &auth,
        Some(json!({"format": "pem"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "no certificate yet");
    assert!(answer.json()["error"]
        .as_str()
        .unwrap()
        .contains("no certificate"));

    send(
        &app,
        Method::PUT,
        "/api/domains/example.test/certificate",
        &auth,
        Some(json!({"pem": bundle_pem("example.test")})),
    )
    .await;
    let pem = send(
        &app,
        Method::POST,
        path,
        &auth,
        Some(json!({"format": "pem"})),
    )
    .await;
    assert_eq!(pem.status, StatusCode::OK);
    assert_eq!(pem.header(CONTENT_TYPE), "application/x-pem-file");
    assert_eq!(
        pem.header("content-disposition"),
        "attachment; filename=\"example.test.pem\""
    );
    assert!(pem.text().starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!pem.text().contains("PRIVATE KEY"));
    // Regression (found by schemathesis): a PKCS#12 password PKCS#12 cannot encode is
    // bad input, answered 400 naming the field, not an internal error.
    let emoji = send(
        &app,
        Method::POST,
        path,
        &auth,
        Some(json!({"format": "pkcs12", "password": "sesame\u{1F600}"})),
    )
    .await;
    assert_eq!(emoji.status, StatusCode::BAD_REQUEST);
    let message = emoji.json()["error"].as_str().unwrap().to_owned();
    assert!(message.starts_with("password:"), "{message}");
    assert!(!message.contains("sesame"), "{message}");
    let der = send(
        &app,
        Method::POST,
        path,
        &auth,
        Some(json!({"format": "der"})),
    )
    .await;
    assert_eq!(der.status, StatusCode::OK);
    assert_eq!(der.body[0], 0x30);

    for (body, field) in [
        (json!({"format": "pkcs12"}), "password"),
        (json!({"format": "jks", "password": "short"}), "password"),
        (
            json!({"format": "pem", "password": "secret-pw"}),
            "password",
        ),
        (json!({"format": "zip"}), "format"),
    ] {
        let answer = send(&app, Method::POST, path, &auth, Some(body.clone())).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        let message = answer.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains(field), "{body}: {message}");
        assert!(!message.contains("secret-pw"));
    }

    let password = "keystore-pw-1";
    for (format, kind) in [
        ("pkcs12", "application/x-pkcs12"),
        ("jks", "application/x-java-keystore"),
    ] {
        let answer = send(
            &app,
            Method::POST,
            path,
            &auth,
            Some(json!({"format": format, "password": password})),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{format}");
        assert_eq!(answer.header(CONTENT_TYPE), kind);
        let (_, store) = certfleet_formats::keystore::read(&answer.body, password).unwrap();
        assert!(store.entries[0].is_private_key(), "{format}");
        assert!(certfleet_formats::keystore::read(&answer.body, "wrong-password").is_err());
    }

    // Through a UI session, the export is a change: it needs the CSRF token.
    let (cookie, csrf) = login(&app, &state).await;
    let body = json!({"format": "pkcs12", "password": password});
    let answer = send(
        &app,
        Method::POST,
        path,
        &[(COOKIE.as_str(), cookie.as_str())],
        Some(body.clone()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = send(
        &app,
        Method::POST,
        path,
        &[
            (COOKIE.as_str(), cookie.as_str()),
            ("x-csrf-token", csrf.as_str()),
        ],
        Some(body),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);

    // The audit log: newest first, paged, exports recorded without the password.
    let page = send(&app, Method::GET, "/api/audit?limit=2", &auth, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.json();
    assert_eq!(page["limit"], 2);
    assert_eq!(page["records"].as_array().unwrap().len(), 2);
    assert_eq!(page["records"][0]["action"], "domain.export");
    assert_eq!(page["records"][0]["detail"], "format pkcs12");
    let total = page["total"].as_u64().unwrap();
    let last = send(
        &app,
        Method::GET,
        &format!("/api/audit?offset={}", total - 1),
        &auth,
        None,
    )
    .await
    .json();
    assert_eq!(last["records"][0]["action"], "domain.add", "oldest last");
    let all = send(&app, Method::GET, "/api/audit?limit=500", &auth, None)
        .await
        .text();
    assert!(!all.contains(password));
    assert!(!all.contains("PRIVATE KEY"));
    for bad in [
        "/api/audit?limit=0",
        "/api/audit?limit=501",
        "/api/audit?offset=x",
    ] {
        let answer = send(&app, Method::GET, bad, &auth, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[test]
fn text_from_the_server_is_escaped_in_pages() {
    use askama::Template as _;
    let page = super::page::MessagePage {
        chrome: super::page::Chrome::new(
            "<b>title</b>",
            "",
            zeroize::Zeroizing::new("\"><script>".into()),
        ),
        heading: "<script>alert(1)</script>".into(),
        message: "a & b <img src=x onerror=alert(1)>".into(),
    };
    let html = page.render().unwrap();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(!html.contains("<b>title"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)") || html.contains("&lt;script&gt;alert(1)"),
        "{html}"
    );
}

#[tokio::test]
async fn the_ca_page_lists_cas_and_the_domain_page_offers_to_issue_from_them() {
    let (_dir, state) = state().await;
    let app = router(Arc::clone(&state));
    let (cookie, _csrf) = login(&app, &state).await;
    let with_cookie = [("cookie", cookie.as_str())];

    let empty = send(&app, Method::GET, "/ui/cas", &with_cookie, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    let html = empty.text();
    assert_csp_clean(&html);
    assert!(html.contains("id=\"create-ca-form\""));
    assert!(!html.contains("id=\"sign-csr-form\""), "no CA to sign with");
    assert!(html.contains("href=\"/ui/cas\" aria-current=\"page\""));

    let bearer = format!("Bearer {}", state.admin_token.as_str());
    let auth = [("authorization", bearer.as_str())];
    let made = send(
        &app,
        Method::POST,
        "/api/cas",
        &auth,
        Some(json!({"name": "internal", "cn": "UI Root", "days": 30})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let thumbprint = made.json()["root_sha1_thumbprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let html = send(&app, Method::GET, "/ui/cas", &with_cookie, None)
        .await
        .text();
    assert_csp_clean(&html);
    assert!(html.contains(&thumbprint), "{html}");
    assert!(html.contains("id=\"sign-csr-form\""));
    assert!(html.contains("/api/cas/internal/certificate"));
    assert!(!html.contains("PRIVATE KEY"));

    let added = send(
        &app,
        Method::POST,
        "/api/domains",
        &auth,
        Some(json!({"name": "example.test"})),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let page = send(
        &app,
        Method::GET,
        "/ui/domains/example.test",
        &with_cookie,
        None,
    )
    .await
    .text();
    assert_csp_clean(&page);
    assert!(page.contains("id=\"issue-form\""));
    assert!(page.contains("<option value=\"internal\">internal</option>"));
}
