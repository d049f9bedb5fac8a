//! The UI's login and logout: `POST /api/session` (the admin token in the body → a
//! session cookie and the session's CSRF token), `GET /api/session` (who is calling; the
//! CSRF token again, for a reloaded page) and `DELETE /api/session`.

use crate::http::auth::{token_matches, Caller};
use crate::http::errors::{ApiError, ErrorBody};
use crate::http::login_throttle::{ClientAddr, LoginThrottle};
use crate::http::sessions::{clear_cookie, session_cookie, set_cookie, Sessions};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use certfleet_api::admin::session::SessionInfo;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// `POST /api/session`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The admin token (`DATA_DIR/admin.token`).
    pub token: String,
}

/// Logs in: a new session (any session the browser already had is ended first, so an
/// id planted before login is useless). A wrong or missing token is 401, whatever the
/// body's shape, and counts as a failed login (logged; repeated ones slowed).
#[utoipa::path(
    post,
    path = "/api/session",
    tag = "session",
    security(()),
    request_body = Login,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = SessionInfo,
            headers(("set-cookie" = String, description = "The HttpOnly, Secure, SameSite=Strict session cookie"))),
        (status = 401, description = "Not the admin token", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<Arc<AppState>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    Extension(throttle): Extension<Arc<LoginThrottle>>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Result<Json<Login>, JsonRejection>,
) -> Result<Response, ApiError> {
    let client = client.map(|Extension(client)| client);
    throttle.pause(client).await;
    let presented = body.map(|Json(login)| login.token).unwrap_or_default();
    if !token_matches(presented.trim(), &state.admin_token) {
        throttle.failed(client, "login with the admin token", presented.as_bytes());
        return Err(ApiError::unauthorized());
    }
    throttle.succeeded(client);
    if let Some(old) = session_cookie(&headers) {
        sessions.close(&old);
    }
    let session = sessions.open()?;
    let info = SessionInfo {
        authenticated_by: "session".into(),
        csrf_token: Some(session.csrf.to_string()),
        idle_timeout_seconds: sessions.idle_timeout().as_secs(),
    };
    Ok(([(SET_COOKIE, set_cookie(&session.id)?)], Json(info)).into_response())
}

/// Who is calling, and a session's CSRF token.
#[utoipa::path(
    get,
    path = "/api/session",
    tag = "session",
    responses(
        (status = 200, description = "The caller", body = SessionInfo),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn show(
    Extension(caller): Extension<Caller>,
    Extension(sessions): Extension<Arc<Sessions>>,
) -> Json<SessionInfo> {
    let (authenticated_by, csrf_token) = match caller {
        // The scrape token opens /metrics only, so it never reaches this route.
        Caller::Bearer | Caller::MetricsReader => ("bearer", None),
        Caller::Session { csrf, .. } => ("session", Some(csrf.to_string())),
    };
    Json(SessionInfo {
        authenticated_by: authenticated_by.into(),
        csrf_token,
        idle_timeout_seconds: sessions.idle_timeout().as_secs(),
    })
}

/// Logs out: ends the caller's session and removes the cookie.
#[utoipa::path(
    delete,
    path = "/api/session",
    tag = "session",
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A session without its CSRF token", body = ErrorBody),
    )
)]
pub async fn logout(
    Extension(caller): Extension<Caller>,
    Extension(sessions): Extension<Arc<Sessions>>,
) -> Response {
    if let Caller::Session { id, .. } = caller {
        sessions.close(&id);
    }
    (StatusCode::NO_CONTENT, [(SET_COOKIE, clear_cookie())]).into_response()
}
