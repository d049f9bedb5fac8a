//! The OpenAPI 3 document of the admin API, served at `GET /api/openapi.json`.
//!
//! It is generated from the code: every `/api/` route is registered with utoipa-axum's
//! `routes!` from its handler's `#[utoipa::path]` attribute (see [`super::api_routes`]),
//! which adds the route to the axum router and its operation to the document in one
//! step. This module adds what is not per route: the title, the two security schemes
//! (`bearer`: the admin token; `session`: the UI's session cookie) required by every
//! operation but the login, and the handler serving the document.
//!
//! The document itself needs authentication like every route: it tells an attacker
//! nothing a client of the API would not know, but an unauthenticated route would be
//! the one exception to check for, and the UI and tools that read it hold the token.

use crate::http::errors::{ApiError, ErrorBody};
use crate::http::sessions::SESSION_COOKIE;
use axum::extract::Extension;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, SecurityRequirement};
use utoipa::{Modify, OpenApi};

/// The document's fixed part; the operations come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "certfleet admin API",
        description = "Domains, certificates, CAs and CSR signing, ACME settings, certificate resolution, status, alerts, platform plan and apply, and endpoint scans of a certfleet server. Authenticate with the admin token as a bearer token, or log in with POST /api/session and send the session's CSRF token as X-CSRF-Token with every change."
    ),
    modifiers(&Security),
    tags(
        (name = "domains", description = "The domain tree, certificates and ACME settings"),
        (name = "cas", description = "The server's certificate authorities, CSR signing and inspection"),
        (name = "status", description = "Expiry state and alerts"),
        (name = "platforms", description = "Plan and apply of the platform models the server's configuration names ([[platform]])"),
        (name = "scans", description = "Results of endpoint scans (certfleet scan)"),
        (name = "session", description = "UI login and logout"),
        (name = "audit", description = "The audit log of changes"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// Adds the security schemes and requires one of them for every operation (an
/// operation may lift it, as the login does).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The admin token of DATA_DIR/admin.token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The UI session cookie set by POST /api/session; changes also need X-CSRF-Token",
            ))),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// The finished document, as JSON, shared with the handler.
#[derive(Clone)]
pub struct DocumentJson(pub Arc<Result<String, String>>);

impl DocumentJson {
    /// Serializes `document` once.
    pub fn new(document: &Document) -> Self {
        DocumentJson(Arc::new(
            document.to_pretty_json().map_err(|err| err.to_string()),
        ))
    }
}

/// The OpenAPI document of this API.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3 document", content_type = "application/json"),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn document(Extension(document): Extension<DocumentJson>) -> Result<Response, ApiError> {
    match document.0.as_ref() {
        Ok(json) => Ok((
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            json.clone(),
        )
            .into_response()),
        Err(err) => Err(ApiError::internal(format!(
            "the OpenAPI document did not serialize: {err}"
        ))),
    }
}
