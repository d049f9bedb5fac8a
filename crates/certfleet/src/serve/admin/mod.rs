//! The admin REST API under `/api/`: domains, their certificates and ACME settings,
//! `resolve` (which certificate a handshake gets, and why), `status` (every managed
//! certificate's expiry state and the ACME progress) and `alerts`.
//!
//! Every route needs the bearer token ([`auth`]); answers and errors are JSON
//! ([`errors`]). Changes lock the tree, apply to a copy, persist the changed record, swap
//! the copy into the certificate hub, and only then become the tree ([`domains`]).

pub mod auth;
pub mod domains;
pub mod errors;
pub mod scans;
pub mod status;

use super::state::AppState;
use axum::routing::{get, put};
use axum::Router;
use std::sync::Arc;

/// The admin API router, bearer-token protected, with `state` shared by every handler.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/domains", get(domains::list).post(domains::add))
        .route("/api/domains/{name}", get(domains::show))
        .route(
            "/api/domains/{name}/certificate",
            put(domains::set_certificate),
        )
        .route("/api/domains/{name}/acme", put(domains::set_acme))
        .route("/api/resolve/{name}", get(domains::resolve))
        .route("/api/alerts", get(alerts))
        .route("/api/status", get(status::status))
        .route("/api/scans", get(scans::list).post(scans::record))
        .fallback(errors::not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::require_token,
        ))
        .with_state(state)
}

/// `GET /api/alerts`: the edge's alert totals since start and the latest alerts (edge
/// and ACME), oldest first.
async fn alerts(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "counts": state.hub.alerts().counts(),
        "recent": state.alerts.recent(),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::router;
    use crate::serve::startup;
    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use http_body_util::BodyExt;
    use serde_json::{json, Value};
    use tower::ServiceExt;

    async fn call(
        app: &axum::Router,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(value) => {
                request = request.header("content-type", "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        let response = app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, value)
    }

    #[tokio::test]
    async fn the_api_needs_the_token_and_answers_json_errors() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::load(None, Some(dir.path())).unwrap();
        let started = startup::start(config).await.unwrap();
        let token = started.state.admin_token.to_string();
        let app = router(started.state.clone());

        for bad in [None, Some("wrong"), Some("")] {
            let (status, body) = call(&app, Method::GET, "/api/domains", bad, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert!(body["error"].is_string(), "{body}");
        }
        let (status, _) = call(&app, Method::GET, "/api/nothing", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let t = Some(token.as_str());
        let (status, body) = call(&app, Method::GET, "/api/domains", t, None).await;
        assert_eq!((status, body), (StatusCode::OK, json!([])));
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/domains",
            t,
            Some(json!({"nom": "x"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/domains",
            t,
            Some(json!({"name": "bad name!"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/domains",
            t,
            Some(json!({"name": "example.test"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body["parent"].is_null());
        assert!(body["acme"]["renew_at"].is_null());
        let (status, _) = call(
            &app,
            Method::POST,
            "/api/domains",
            t,
            Some(json!({"name": "example.test"})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/domains",
            t,
            Some(json!({"name": "a.example.test", "parent": "nope.test"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["error"].as_str().unwrap().starts_with("parent"),
            "{body}"
        );
        let (status, _) = call(&app, Method::GET, "/api/domains/unknown.test", t, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = call(
            &app,
            Method::PUT,
            "/api/domains/example.test/certificate",
            t,
            Some(json!({"pem": "not a pem"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = call(
            &app,
            Method::PUT,
            "/api/domains/example.test/acme",
            t,
            Some(json!({"enabled": true})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error"].as_str().unwrap().contains("email"), "{body}");
        let (status, body) =
            call(&app, Method::GET, "/api/resolve/www.example.test", t, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["source"], "default", "{body}");
        let (status, _) = call(&app, Method::GET, "/api/nothing", t, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
