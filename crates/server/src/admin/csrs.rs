//! `POST /api/csrs/inspect`: what a CSR asks for (subject, SANs, key) and whether its
//! self-signature verifies, read-only, so a person can check a CSR before signing it.

use crate::http::errors::{ApiError, ErrorBody};
use axum::extract::rejection::JsonRejection;
use axum::Json;
pub use certfleet_api::admin::cas::CsrJson;
use certfleet_pki::inspect::describe_csr;
use serde::Deserialize;
use utoipa::ToSchema;

/// `POST /api/csrs/inspect`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectCsr {
    /// The CSR, PEM (`CERTIFICATE REQUEST`).
    #[schema(min_length = 1)]
    pub csr: String,
}

/// `POST /api/csrs/inspect`: describes a CSR.
#[utoipa::path(post, path = "/api/csrs/inspect", tag = "cas", request_body = InspectCsr,
    responses(
        (status = 200, description = "The CSR described", body = CsrJson),
        (status = 400, description = "Not a CSR; the message names the field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
    )
)]
pub async fn inspect(
    body: Result<Json<InspectCsr>, JsonRejection>,
) -> Result<Json<CsrJson>, ApiError> {
    let Json(body) = body?;
    let (csr, signature_valid) = describe_csr(body.csr.as_bytes())
        .map_err(|err| ApiError::bad_request(format!("csr: {err}")))?;
    Ok(Json(CsrJson {
        subject: csr.subject,
        sans: csr.sans,
        key_type: csr.key_type,
        key_bits: csr.key_bits,
        signature_valid,
    }))
}
