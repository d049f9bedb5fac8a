//! The admin API's routes for services of an external CA whose keys live on their
//! nodes:
//!
//! - `GET /api/platforms/{platform}/csrs`: the CSRs nodes sent, for the CA's
//!   administrator (`certfleet node csrs`);
//! - `POST /api/platforms/{platform}/services/{service}/reply`: the CA's reply, checked
//!   against the node's CSR and the model ([`super::reply`]) and kept as the service's
//!   certificate, which its node then deploys (`certfleet node reply`); audited as
//!   `service.reply`.

use super::model::{self, PlatformView};
use super::records::{key, CsrRecord, Records};
use super::reply::{self, ReplyError};
use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
use certfleet_api::nodes::{CsrReply, PendingCsr, PendingCsrsAnswer, ReplyImported};
use certfleet_pki::csr::parse_csr;
use certfleet_platform::spec::IssuerKind;
use std::sync::Arc;
use time::OffsetDateTime;

fn view_of(state: &AppState, platform: &str) -> Result<PlatformView, ApiError> {
    let config = model::configured(&state.config.platforms, platform)
        .map_err(|err| ApiError::not_found(err.message()))?;
    model::load(config).map_err(|err| ApiError::unprocessable(err.message()))
}

/// `GET /api/platforms/{platform}/csrs`: the CSRs waiting for an external CA.
#[utoipa::path(get, path = "/api/platforms/{platform}/csrs", tag = "platforms",
    params(
        ("platform" = String, Path, description = "The model's [platform] name", example = "qms"),
    ),
    responses(
        (status = 200, description = "The waiting CSRs, in model order", body = PendingCsrsAnswer),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration", body = ErrorBody),
        (status = 422, description = "The platform's model does not validate", body = ErrorBody),
    )
)]
pub async fn list_csrs(
    State(state): State<Arc<AppState>>,
    Path(platform): Path<String>,
) -> Result<Json<PendingCsrsAnswer>, ApiError> {
    let view = view_of(&state, &platform)?;
    let records = Records::new(Arc::clone(&state.store));
    let mut csrs = Vec::new();
    for service in &view.platform.services {
        if service.issuer != IssuerKind::External {
            continue;
        }
        let Some(csr) = records
            .csr(&platform, &service.name)
            .await
            .map_err(ApiError::internal)?
        else {
            continue;
        };
        let (subject, sans) = match parse_csr(csr.csr_pem.as_bytes()) {
            Ok((info, _)) => (
                info.subject,
                info.sans
                    .unwrap_or_default()
                    .iter()
                    .map(|san| san.display())
                    .collect(),
            ),
            Err(err) => (format!("unreadable CSR: {err}"), Vec::new()),
        };
        csrs.push(PendingCsr {
            service: service.name.clone(),
            node: service.node.clone(),
            csr_pem: csr.csr_pem,
            subject,
            sans,
            received_at: csr.received_at,
        });
    }
    Ok(Json(PendingCsrsAnswer { platform, csrs }))
}

/// `POST /api/platforms/{platform}/services/{service}/reply`: an external CA's reply.
#[utoipa::path(post, path = "/api/platforms/{platform}/services/{service}/reply", tag = "platforms",
    params(
        ("platform" = String, Path, description = "The model's [platform] name", example = "qms"),
        ("service" = String, Path, description = "A [[service]] of the model with ca = \"external\"", example = "web"),
    ),
    request_body = CsrReply,
    responses(
        (status = 200, description = "The reply answers the node's CSR as the model asks; its node deploys it", body = ReplyImported),
        (status = 400, description = "A body that is not the request's JSON, or a reply that is not PEM certificates", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration, or no such service in its model", body = ErrorBody),
        (status = 409, description = "The service is not of an external CA, no CSR of its node is waiting, or the model changed since the CSR came", body = ErrorBody),
        (status = 422, description = "The reply does not answer the CSR as the model asks (every difference listed), or the model does not validate", body = ErrorBody),
    )
)]
pub async fn import_reply(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path((platform, service)): Path<(String, String)>,
    body: Result<Json<CsrReply>, JsonRejection>,
) -> Result<Json<ReplyImported>, ApiError> {
    let Json(reply_body) = body?;
    let view = view_of(&state, &platform)?;
    let found = view.platform.service(&service).ok_or_else(|| {
        ApiError::not_found(format!(
            "service {service} is not in the model of platform {platform}"
        ))
    })?;
    if found.issuer != IssuerKind::External {
        return Err(ApiError::conflict(format!(
            "service {service} of platform {platform} is {}, not of an external CA: the server does not import replies for it",
            found.issuer.name()
        )));
    }
    let records = Records::new(Arc::clone(&state.store));
    let csr_segments = ["csrs", platform.as_str(), service.as_str()];
    let Some((csr, csr_revision)) = records
        .get::<CsrRecord>(&csr_segments)
        .await
        .map_err(ApiError::internal)?
    else {
        return Err(ApiError::conflict(format!(
            "no CSR of node {} for service {service} of platform {platform} is waiting: its agent sends one when it needs a certificate (see certfleet node csrs)",
            found.node
        )));
    };
    let accepted = reply::check(
        found,
        &csr,
        &reply_body.certificate_pem,
        reply_body.chain_pem.as_deref(),
        OffsetDateTime::now_utc(),
    )
    .map_err(|err| match err {
        ReplyError::Unreadable(message) => ApiError::bad_request(message),
        ReplyError::Outdated(message) => ApiError::conflict(message),
        mismatch @ ReplyError::Mismatch { .. } => ApiError::unprocessable(mismatch.to_string()),
    })?;
    let record = accepted.record;
    records
        .put(&["certs", &platform, &service], &record)
        .await
        .map_err(ApiError::internal)?;
    // The CSR is answered; one the node sent meanwhile (another revision) stays.
    let csr_key = key(&csr_segments).map_err(ApiError::internal)?;
    if records
        .get::<CsrRecord>(&csr_segments)
        .await
        .map_err(ApiError::internal)?
        .is_some_and(|(_, revision)| revision == csr_revision)
    {
        records
            .store()
            .delete(&csr_key)
            .await
            .map_err(ApiError::internal)?;
    }
    certfleet_store::audit::record(
        state.store.as_ref(),
        actor,
        "service.reply",
        &format!("service {platform}/{service}"),
        Some(&format!(
            "external CA's reply imported for node {} (sha256 {}, {} chain certificates)",
            found.node,
            record.sha256,
            record.chain_pem.len()
        )),
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(ReplyImported {
        platform,
        service,
        node: found.node.clone(),
        sha256: record.sha256,
        subject: accepted.subject,
        chain_length: record.chain_pem.len(),
        not_after: record.not_after,
    }))
}
