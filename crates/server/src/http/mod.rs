//! The HTTP layer of the admin listener: the router that joins the admin API
//! ([`crate::admin`]), the web UI ([`crate::ui`]) and `/metrics`, and the layers every
//! answer goes through, outermost first: security headers ([`headers`]), CORS
//! ([`cors`]), authentication by bearer token or UI session with CSRF protection
//! ([`auth`], [`sessions`], with failed logins slowed by [`login_throttle`]), JSON for
//! axum's own rejections, and panic containment (a panicking handler answers a 500 with
//! an error id, [`errors`]).

pub mod auth;
pub mod cors;
pub mod errors;
pub mod headers;
pub mod login_throttle;
pub mod sessions;

use crate::admin::{api_routes, metrics, openapi};
use crate::state::AppState;
use axum::extract::Extension;
use axum::Router;
use sessions::Sessions;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa_axum::router::OpenApiRouter;

/// The admin listener's router, with `state` shared by every handler and UI sessions
/// that end after `[admin] session_timeout_minutes` idle or `session_lifetime_seconds`
/// after their login.
pub fn router(state: Arc<AppState>) -> Router {
    let sessions = Sessions::with_lifetime(
        state.config.admin.session_timeout,
        state.config.admin.session_lifetime,
    );
    let routes = api_routes().merge(OpenApiRouter::from(crate::ui::routes()));
    assemble(routes, state, sessions)
}

/// `routes` with the OpenAPI document served, the fallback, and the layers every
/// answer goes through (see the module's doc).
pub fn assemble(
    routes: OpenApiRouter<Arc<AppState>>,
    state: Arc<AppState>,
    sessions: Sessions,
) -> Router {
    let (router, document) = routes.split_for_parts();
    let guard = auth::Guard {
        state: Arc::clone(&state),
        sessions: Arc::new(sessions),
        throttle: Arc::new(login_throttle::LoginThrottle::default()),
    };
    let cors = Arc::new(cors::CorsPolicy::new(&state.config.admin.cors_origins));
    router
        .route("/metrics", axum::routing::get(metrics::metrics))
        .fallback(errors::not_found)
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(axum::middleware::from_fn(errors::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            guard.clone(),
            auth::authenticate,
        ))
        .layer(Extension(openapi::DocumentJson::new(&document)))
        .layer(Extension(Arc::clone(&guard.sessions)))
        .layer(Extension(Arc::clone(&guard.throttle)))
        .layer(axum::middleware::from_fn_with_state(cors, cors::cors))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}
