//! The admin REST API under `/api/`: domains, their certificates and ACME settings,
//! the server's CAs (create, show, distribute, sign CSRs, what each issued, issue for a
//! domain: [`cas`]),
//! `resolve` (which certificate a handshake gets, and why), `status` (every managed
//! certificate's expiry state and the ACME progress), `alerts`, plan and apply of the
//! configured platform models ([`platforms`]), the UI's `session`, and
//! the OpenAPI document at `/api/openapi.json` ([`openapi`]).
//!
//! Every route is registered in [`api_routes`] with utoipa-axum's `routes!`, which puts
//! it into the axum router and its operation into the OpenAPI document together, so the
//! two cannot differ. The handlers are thin: a typed request (types of certfleet-api),
//! a call into a service of this crate, a typed answer. The layers every answer goes
//! through (headers, CORS, authentication, sessions, errors) are [`crate::http`]'s.

#[cfg(test)]
mod api_tests;
pub mod audit;
pub mod ca_json;
pub mod ca_sign;
#[cfg(test)]
mod ca_tests;
pub mod cas;
pub mod csrs;
pub mod domain_issue;
pub mod domain_lifecycle;
pub mod domains;
pub mod export;
pub mod metrics;
pub mod openapi;
#[cfg(test)]
pub mod platform_fixture;
#[cfg(test)]
mod platform_tests;
pub mod platforms;
pub mod scans;
pub mod session;
pub mod status;

use super::agents::admin as agents_admin;
use super::agents::external_admin as agents_external;
use super::agents::rollout_admin as agents_rollout;
use super::agents::rotation_admin as agents_rotation;
use super::state::AppState;
use crate::http::errors::ErrorBody;
use axum::extract::State;
use certfleet_api::admin::status::{AlertJson, AlertsJson};
use std::sync::Arc;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of the API with its OpenAPI operation. A new route goes here, as
/// `.routes(routes!(module::handler))` of a handler with a `#[utoipa::path]` attribute
/// (docs/DESIGN.md, "Adding an admin API route").
pub fn api_routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(domains::list, domains::add))
        .routes(routes!(domains::show, domain_lifecycle::delete))
        .routes(routes!(domain_lifecycle::move_domain))
        .routes(routes!(domains::set_certificate))
        .routes(routes!(domains::set_acme))
        .routes(routes!(domains::resolve))
        .routes(routes!(domain_issue::issue))
        .routes(routes!(cas::list, cas::create))
        .routes(routes!(cas::show))
        .routes(routes!(cas::certificate))
        .routes(routes!(cas::issued))
        .routes(routes!(ca_sign::sign))
        .routes(routes!(csrs::inspect))
        .routes(routes!(export::export))
        .routes(routes!(audit::list))
        .routes(routes!(alerts))
        .routes(routes!(status::status))
        .routes(routes!(scans::list, scans::record))
        .routes(routes!(platforms::list))
        .routes(routes!(platforms::show))
        .routes(routes!(platforms::plan))
        .routes(routes!(platforms::apply))
        .routes(routes!(agents_admin::create_token))
        .routes(routes!(agents_admin::nodes))
        .routes(routes!(agents_admin::revoke))
        .routes(routes!(agents_external::list_csrs))
        .routes(routes!(agents_external::import_reply))
        .routes(routes!(agents_rollout::renew))
        .routes(routes!(agents_rollout::resume))
        .routes(routes!(agents_rotation::show, agents_rotation::start))
        .routes(routes!(session::login, session::show, session::logout))
        .routes(routes!(openapi::document))
}

/// `GET /api/alerts`: the edge's alert totals since start and the latest alerts (edge
/// and ACME), oldest first.
#[utoipa::path(get, path = "/api/alerts", tag = "status",
    responses(
        (status = 200, description = "Alert counts and the latest alerts", body = AlertsJson),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
async fn alerts(State(state): State<Arc<AppState>>) -> axum::Json<AlertsJson> {
    axum::Json(AlertsJson {
        counts: crate::status_report::alert_counts_json(state.hub.alerts().counts()),
        recent: state
            .alerts
            .recent()
            .into_iter()
            .map(|alert| AlertJson {
                kind: alert.kind.to_string(),
                at_unix: alert.at_unix,
                domain: alert.domain,
                message: alert.message,
                occurrences: alert.occurrences,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::http::router;
    use crate::startup;
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
        let config = certfleet_config::load(None, Some(dir.path())).unwrap();
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
