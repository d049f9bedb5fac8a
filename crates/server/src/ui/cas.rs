//! The CA page (`/ui/cas`): the server's CAs (signing subject, expiry, thumbprints, a
//! link to their certificates for trust stores), the form that makes a CA
//! (`POST /api/cas`) and the form that signs a pasted CSR (`POST /api/cas/{name}/sign`,
//! after `POST /api/csrs/inspect` shows what it asks for). No CA key reaches the page.

use super::page::{html, message, Chrome, UiSession};
use crate::cas::CaError;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use certfleet_api::admin::cas::CaJson;
use std::sync::Arc;

/// The CA page.
#[derive(Template)]
#[template(path = "ui/cas.html")]
pub struct CasPage {
    /// The frame.
    pub chrome: Chrome,
    /// Every CA, ordered by name.
    pub cas: Vec<CaJson>,
    /// The names of the CAs that sign what an administrator asks (the reserved agents
    /// CA left out).
    pub signers: Vec<String>,
}

/// The server's CAs as the API shows them; the error's message when the store fails.
pub async fn ca_list(state: &AppState) -> Result<Vec<CaJson>, CaError> {
    crate::cas::view::list(state).await
}

/// `GET /ui/cas`.
pub async fn page(State(state): State<Arc<AppState>>, UiSession(csrf): UiSession) -> Response {
    match ca_list(&state).await {
        Ok(cas) => html(
            StatusCode::OK,
            &CasPage {
                chrome: Chrome::new("Certificate authorities", "cas", csrf),
                signers: cas
                    .iter()
                    .map(|ca| ca.name.clone())
                    .filter(|name| !crate::cas::is_reserved(name))
                    .collect(),
                cas,
            },
        ),
        Err(err) => {
            tracing::error!("the CA page: {err}");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                csrf,
                "CAs unavailable",
                "The server could not read its CAs; its log says why.",
            )
        }
    }
}
