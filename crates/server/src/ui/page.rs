//! What every page shares: the session check, the frame around each page (title,
//! navigation, CSRF token), and turning a template into an HTML answer that no cache
//! keeps.

use crate::http::sessions::{session_cookie, Sessions};
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The login page's path.
pub const LOGIN: &str = "/ui/login";

/// The CSRF token of the request's open session, when it has one (the use counts as
/// activity, as for the API).
pub fn session(sessions: &Sessions, headers: &HeaderMap) -> Option<Zeroizing<String>> {
    let id = session_cookie(headers)?;
    sessions.touch(&id)
}

/// The CSRF token of the request's open session, as a handler argument: a request
/// without an open session is answered with a redirect to the login page before the
/// handler runs.
pub struct UiSession(pub Zeroizing<String>);

impl<S: Send + Sync> FromRequestParts<S> for UiSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<Sessions>>()
            .and_then(|sessions| session(sessions, &parts.headers))
            .map(UiSession)
            .ok_or_else(|| redirect(LOGIN))
    }
}

/// 303 See Other to `to` (a path of this listener).
pub fn redirect(to: &'static str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, HeaderValue::from_static(to)),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// The frame of a page: its title, the navigation entry it is, and the session's CSRF
/// token (empty on the login page), which the script sends with changes.
pub struct Chrome {
    /// The page's title (without the product name).
    pub title: String,
    /// `dashboard`, `domains`, `cas`, `audit`, or empty.
    pub active: &'static str,
    /// The session's CSRF token.
    pub csrf: Zeroizing<String>,
}

impl Chrome {
    /// The frame of a page of a logged-in session.
    pub fn new(title: impl Into<String>, active: &'static str, csrf: Zeroizing<String>) -> Self {
        Chrome {
            title: title.into(),
            active,
            csrf,
        }
    }

    /// Whether this page is the navigation entry `entry` (for `aria-current`).
    pub fn is(&self, entry: &str) -> bool {
        self.active == entry
    }
}

/// The rendered template as `status` with an HTML body, never cached (pages carry the
/// CSRF token). A template that fails to render is a 500 whose details are logged with
/// an id.
pub fn html(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => (
            status,
            [
                (
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response(),
        Err(err) => crate::http::errors::ApiError::internal(format!("rendering a UI page: {err}"))
            .into_response(),
    }
}

/// A page that says something went wrong (unknown domain, store failure), inside the
/// frame so the navigation stays usable.
#[derive(Template)]
#[template(path = "ui/message.html")]
pub struct MessagePage {
    /// The frame.
    pub chrome: Chrome,
    /// The heading.
    pub heading: String,
    /// What happened, in words for the administrator.
    pub message: String,
}

/// [`MessagePage`] as an answer with `status`.
pub fn message(
    status: StatusCode,
    csrf: Zeroizing<String>,
    heading: &str,
    message: &str,
) -> Response {
    html(
        status,
        &MessagePage {
            chrome: Chrome::new(heading, "", csrf),
            heading: heading.to_owned(),
            message: message.to_owned(),
        },
    )
}
