//! The CA page (`/ui/cas`): the server's CAs (signing subject, expiry, thumbprints, a
//! link to their certificates for trust stores), the form that makes a CA
//! (`POST /api/cas`) and the form that signs a pasted CSR (`POST /api/cas/{name}/sign`,
//! after `POST /api/csrs/inspect` shows what it asks for). No CA key reaches the page.

use super::page::{html, message, Chrome, UiSession};
use crate::admin::ca_json::{ca_json, CaJson};
use crate::admin::cas::repository;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::Arc;

/// The CA page.
#[derive(Template)]
#[template(path = "ui/cas.html")]
pub struct CasPage {
    /// The frame.
    pub chrome: Chrome,
    /// Every CA, ordered by name.
    pub cas: Vec<CaJson>,
}

/// The server's CAs as the API shows them; the error's message when the store fails.
pub async fn ca_list(state: &AppState) -> Result<Vec<CaJson>, String> {
    let cas = repository(state).list().await.map_err(|err| {
        crate::admin::errors::ApiError::from(err)
            .message()
            .to_owned()
    })?;
    cas.iter()
        .map(|ca| ca_json(ca).map_err(|err| err.message().to_owned()))
        .collect()
}

/// `GET /ui/cas`.
pub async fn page(State(state): State<Arc<AppState>>, UiSession(csrf): UiSession) -> Response {
    match ca_list(&state).await {
        Ok(cas) => html(
            StatusCode::OK,
            &CasPage {
                chrome: Chrome::new("Certificate authorities", "cas", csrf),
                cas,
            },
        ),
        Err(err) => message(
            StatusCode::INTERNAL_SERVER_ERROR,
            csrf,
            "CAs unavailable",
            &err,
        ),
    }
}
