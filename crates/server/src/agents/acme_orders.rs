//! ACME certificates for agents' services (`ca = "acme"`). The service's key stays on
//! its node: the node's CSR, whose names must be exactly the model's, is kept in the
//! store as an order record (`agents/acme/<platform>/<service>`, [`AcmeOrderRecord`])
//! and finalised by an ACME order in the background ([`super::acme_order_runs`]),
//! which answers the challenges the way the server does for its own domains (HTTP-01
//! on its plain-HTTP listener, TLS-ALPN-01 on its edge, through the answers shared in
//! the store).
//!
//! - While the record waits, the service's assignment is `Awaiting` with the order's
//!   state and its last error ([`awaiting`]).
//! - An order runs under a store lock per service, so servers sharing the store never
//!   run two at once for one service; a failed one is tried again after
//!   [`certfleet_acme::schedule::backoff`]. The record outlives a restart, and the
//!   loop takes it up again.
//! - The issued certificate (leaf and chain as the ACME server sent them) becomes the
//!   service's [`super::records::CertRecord`], the record is removed, and the
//!   platform's waiting assignment requests are woken: the node deploys it. Renewal is
//!   the assignment's, as for other certificates: when due, the node is asked for a
//!   new CSR.

use super::errors::AgentError;
use super::model::{request_of, PlatformView};
use super::records::Records;
use certfleet_acme::csr_order::csr_names;
use certfleet_api::agent::CertificateState;
use certfleet_config::ServerConfig;
use certfleet_pki::csr::CsrInfo;
use certfleet_pki::names::San;
use certfleet_platform::spec::{IssuerKind, Service};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A node's CSR waiting for its ACME order, and the order's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeOrderRecord {
    /// The node's CSR (PEM).
    pub csr_pem: String,
    /// What the model asked for when it came ([`request_of`]).
    pub request: String,
    /// The names ordered.
    pub names: Vec<String>,
    /// When it came.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Failed attempts so far.
    #[serde(default)]
    pub failures: u32,
    /// Why the last attempt failed.
    #[serde(default)]
    pub last_error: Option<String>,
    /// No attempt before this moment (back-off after a failure).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub next_attempt: Option<OffsetDateTime>,
}

/// The DNS names the model orders for an ACME `service` (its CN and `san` entries),
/// lower-case, sorted, each once: what the node's CSR must name.
pub fn model_names(service: &Service) -> Vec<String> {
    let mut names = vec![service.cn.to_ascii_lowercase()];
    names.extend(service.sans.iter().filter_map(|san| match san {
        San::Dns(name) => Some(name.to_ascii_lowercase()),
        San::Ip(_) => None,
    }));
    names.sort();
    names.dedup();
    names
}

/// 409 when the server cannot order ACME certificates for `service`: its configuration
/// has no `[acme] email`. Nothing to check for other issuers.
pub fn refuse_unconfigured(
    config: &ServerConfig,
    view: &PlatformView,
    service: &Service,
) -> Result<(), AgentError> {
    if service.issuer != IssuerKind::Acme || config.acme_email.is_some() {
        return Ok(());
    }
    Err(AgentError::conflict(format!(
        "service {} of platform {} has ca = \"acme\", but the server's configuration has no [acme] block with an email (the ACME account's contact): add [acme] email = \"...\" (and directory, unless Let's Encrypt) to order its certificate",
        service.name, view.platform.name
    )))
}

/// Keeps the node's CSR for `service` as an order record, after checking that it names
/// exactly the model's names; the answer says the order is under way.
pub async fn accept_csr(
    view: &PlatformView,
    service: &Service,
    csr: &CsrInfo,
    csr_pem: &str,
    records: &Records,
    now: OffsetDateTime,
) -> Result<CertificateState, AgentError> {
    let platform = &view.platform.name;
    let names =
        csr_names(&csr.der).map_err(|err| AgentError::bad_request(format!("csr_pem: {err}")))?;
    let wanted = model_names(service);
    if names != wanted {
        return Err(AgentError::bad_request(format!(
            "csr_pem: the CSR names {}, but the model orders {} for service {} of platform {platform} (its cn and san)",
            names.join(", "),
            wanted.join(", "),
            service.name
        )));
    }
    let segments = ["acme", platform.as_str(), service.name.as_str()];
    let kept = records
        .get::<AcmeOrderRecord>(&segments)
        .await
        .map_err(AgentError::internal)?
        .map(|(record, _)| record);
    let record = match kept {
        // The same CSR again (a node that asked twice): the order goes on.
        Some(record) if record.csr_pem == csr_pem => record,
        _ => {
            let record = AcmeOrderRecord {
                csr_pem: csr_pem.to_owned(),
                request: request_of(service),
                names,
                received_at: now,
                failures: 0,
                last_error: None,
                next_attempt: None,
            };
            records
                .put(&segments, &record)
                .await
                .map_err(AgentError::internal)?;
            tracing::info!(
                "agents: an ACME order for service {} of platform {platform} ({}) is under way",
                service.name,
                record.names.join(", ")
            );
            record
        }
    };
    Ok(state_of(&record))
}

/// `Awaiting` with the order's state while an order for what the model asks of
/// `service` waits; `None` when there is none.
pub async fn awaiting(
    view: &PlatformView,
    service: &Service,
    records: &Records,
) -> Result<Option<CertificateState>, AgentError> {
    let record = records
        .get::<AcmeOrderRecord>(&["acme", &view.platform.name, &service.name])
        .await
        .map_err(AgentError::internal)?
        .map(|(record, _)| record)
        .filter(|record| record.request == request_of(service));
    Ok(record.as_ref().map(state_of))
}

fn state_of(record: &AcmeOrderRecord) -> CertificateState {
    let names = record.names.join(", ");
    let reason = match (&record.last_error, record.next_attempt) {
        (Some(error), Some(next)) => format!(
            "the ACME order for {names} failed {} time(s); next attempt at {}: {error}",
            record.failures,
            next.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        ),
        _ => format!("the ACME order for {names} is under way"),
    };
    CertificateState::Awaiting { reason }
}
