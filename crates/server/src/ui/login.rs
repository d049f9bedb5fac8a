//! The login page (`/ui/login`) and `/`: the admin token typed into a form becomes a
//! session through `POST /api/session` (the script does the call; the token never goes
//! into a URL). A visitor who already has a session goes straight to the dashboard.

use super::page::{html, redirect, session, Chrome, LOGIN};
use crate::http::sessions::Sessions;
use askama::Template;
use axum::extract::Extension;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The dashboard's path.
pub const HOME: &str = "/ui/";

/// The login page.
#[derive(Template)]
#[template(path = "ui/login.html")]
pub struct LoginPage {
    /// The frame (no navigation, no CSRF token).
    pub chrome: Chrome,
}

/// `GET /`: the dashboard when logged in, else the login page.
pub async fn root(Extension(sessions): Extension<Arc<Sessions>>, headers: HeaderMap) -> Response {
    if session(&sessions, &headers).is_some() {
        redirect(HOME)
    } else {
        redirect(LOGIN)
    }
}

/// `GET /ui/login`.
pub async fn page(Extension(sessions): Extension<Arc<Sessions>>, headers: HeaderMap) -> Response {
    if session(&sessions, &headers).is_some() {
        return redirect(HOME);
    }
    html(
        StatusCode::OK,
        &LoginPage {
            chrome: Chrome::new("Log in", "", Zeroizing::new(String::new())),
        },
    )
}
