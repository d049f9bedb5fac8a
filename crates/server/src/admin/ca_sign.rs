//! `POST /api/cas/{name}/sign`: the CSR signing service. The requester keeps its key;
//! the CA signs the CSR under its policy and answers the certificate and the chain. Each
//! signature is audited (which CA, which subject, which thumbprint).

use super::ca_json::{check_days, no_such_ca};
use super::cas::repository;
use crate::cas::choices::usage;
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
pub use certfleet_api::admin::ca_requests::SignCsr;
pub use certfleet_api::admin::cas::SignedJson;
use certfleet_pki::certs::to_pem;
use certfleet_pki::csr::{read_csr, sign_csr};
use certfleet_pki::inspect::{describe_certificate, fingerprint::sha1_thumbprint};
use std::sync::Arc;

/// The validity asked for when `days` is absent.
const DEFAULT_DAYS: u32 = certfleet_pki::profile::DEFAULT_LEAF_DAYS;

/// `POST /api/cas/{name}/sign`: signs a CSR under the CA's policy.
#[utoipa::path(post, path = "/api/cas/{name}/sign", tag = "cas",
    params(("name" = String, Path, description = "The CA's name")),
    request_body = SignCsr,
    responses(
        (status = 200, description = "Signed", body = SignedJson),
        (status = 400, description = "Bad input or refused by the policy; the message says why", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such CA", body = ErrorBody),
    )
)]
pub async fn sign(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path(ca): Path<String>,
    body: Result<Json<SignCsr>, JsonRejection>,
) -> Result<Json<SignedJson>, ApiError> {
    let Json(body) = body?;
    let days = check_days("days", body.days.unwrap_or(DEFAULT_DAYS))?;
    let csr = read_csr(body.csr.as_bytes())
        .map_err(|err| ApiError::bad_request(format!("csr: {err}")))?;
    let repository = repository(&state);
    let (info, authority) = repository
        .issuing_authority(&ca)
        .await?
        .ok_or_else(|| no_such_ca(&ca))?;
    let cert = sign_csr(
        &authority,
        &csr,
        usage(body.usage),
        days,
        &info.policy.signing_policy(),
    )
    .map_err(|err| ApiError::bad_request(format!("csr: refused by CA {ca}: {err}")))?;
    let described =
        describe_certificate(&cert, time::OffsetDateTime::now_utc()).map_err(ApiError::internal)?;
    let thumbprint = sha1_thumbprint(&cert);
    repository
        .audit_use(
            &ca,
            actor,
            "ca.sign",
            &format!("{} ({thumbprint})", described.subject),
        )
        .await?;
    Ok(Json(SignedJson {
        certificate: to_pem(std::slice::from_ref(&cert)),
        chain: to_pem(&authority.issuing_chain()),
        sha1_thumbprint: thumbprint,
        subject: described.subject,
        not_after: described.not_after,
    }))
}
