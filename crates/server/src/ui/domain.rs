//! A domain's page (`/ui/domains/NAME`): its own certificate in detail (subject,
//! issuer, SANs, validity, thumbprints, key, whether ACME issued it) and its chain, the
//! certificate a handshake naming it gets and where that comes from, its ACME state, the
//! paste-a-bundle form (`PUT /api/domains/{name}/certificate`), the issue-from-a-CA
//! form (`POST /api/domains/{name}/certificate/issue`) and the downloads
//! (`POST /api/domains/{name}/certificate/export`). The page never holds the key.

use super::domain_lifecycle::{forms, LifecycleForms};
use super::domains::{effective, Effective};
use super::page::{html, message, Chrome, UiSession};
use crate::domain_service::DomainError;
use crate::domain_views;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use certfleet_pki::bundle::{read_pem, Contents};
use certfleet_pki::inspect::describe_certificate;
use std::sync::Arc;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// One certificate of the domain's chain, described.
pub struct CertDetails {
    /// `leaf`, `intermediate` or `root`.
    pub position: &'static str,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// Subject alternative names.
    pub sans: Vec<String>,
    /// Start of validity.
    pub not_before: String,
    /// End of validity.
    pub not_after: String,
    /// Days left (negative after the end).
    pub days_remaining: i64,
    /// SHA-1 thumbprint.
    pub sha1: String,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// Key type and size.
    pub key: String,
    /// Signature algorithm.
    pub signature_algorithm: String,
}

/// The domain's ACME settings and progress.
pub struct AcmeState {
    /// Automatic issuance is on.
    pub enabled: bool,
    /// The account's address.
    pub email: String,
    /// When renewal is due.
    pub renew_at: String,
    /// Failed attempts in a row.
    pub failures: u64,
    /// The last failure.
    pub last_error: String,
    /// The next attempt.
    pub next_attempt: String,
    /// The last success.
    pub last_success: String,
}

/// The domain page.
#[derive(Template)]
#[template(path = "ui/domain.html")]
pub struct DomainPage {
    /// The frame.
    pub chrome: Chrome,
    /// The domain.
    pub name: String,
    /// Its parent.
    pub parent: Option<String>,
    /// Its own certificate and chain, leaf first; empty when it has none.
    pub chain: Vec<CertDetails>,
    /// Its own certificate was issued automatically (ACME, or a server CA).
    pub auto_issued: bool,
    /// The server CA that issued its certificate and renews it; empty otherwise.
    pub issuing_ca: String,
    /// What a handshake naming it gets.
    pub effective: Effective,
    /// ACME.
    pub acme: AcmeState,
    /// A bundle was just stored (`?stored=1`).
    pub stored: bool,
    /// The shortest keystore password.
    pub min_password: usize,
    /// The names of the server's CAs, for the issue-from-a-CA form.
    pub cas: Vec<String>,
    /// The Move and Delete forms.
    pub lifecycle: LifecycleForms,
}

/// The chain of a stored bundle, described (the key is read and dropped at once).
fn describe_chain(pem: &str) -> Vec<CertDetails> {
    let Ok(Contents::Bundle(bundle)) = read_pem(pem, None) else {
        return Vec::new();
    };
    let now = OffsetDateTime::now_utc();
    bundle
        .leaf
        .iter()
        .chain(bundle.chain.iter())
        .enumerate()
        .filter_map(|(i, der)| {
            let info = describe_certificate(der.as_ref(), now).ok()?;
            let position = match (i, info.self_issued) {
                (0, _) => "leaf",
                (_, true) => "root",
                _ => "intermediate",
            };
            let key = match &info.curve {
                Some(curve) => format!("{} {curve}", info.key_type),
                None => format!("{} {} bits", info.key_type, info.key_bits),
            };
            Some(CertDetails {
                position,
                subject: info.subject,
                issuer: info.issuer,
                serial: info.serial,
                sans: info.sans,
                not_before: info.not_before,
                not_after: info.not_after,
                days_remaining: info.days_remaining,
                sha1: info.sha1_thumbprint,
                sha256: info.sha256_fingerprint,
                key,
                signature_algorithm: info.signature_algorithm,
            })
        })
        .collect()
}

/// `GET /ui/domains/{name}`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    UiSession(csrf): UiSession,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let view = match domain_views::show(&state, &name).await {
        Ok(view) => view,
        Err(err @ DomainError::NotFound(_)) => {
            return message(
                StatusCode::NOT_FOUND,
                csrf,
                "Domain not found",
                &err.to_string(),
            );
        }
        Err(err) => {
            tracing::error!("the page of domain {name}: {err}");
            return message(
                StatusCode::INTERNAL_SERVER_ERROR,
                csrf,
                "Domain unavailable",
                "The server could not read the domain; its log says why.",
            );
        }
    };
    let name = view.name.clone();
    let pem = state
        .domains
        .read(|tree| {
            tree.get(&name)
                .and_then(|d| d.certificate())
                .map(|c| Zeroizing::new(c.pem().to_owned()))
        })
        .await;
    let chain = pem
        .as_deref()
        .map(|p| describe_chain(p))
        .unwrap_or_default();
    let acme = view.acme;
    let page = DomainPage {
        chrome: Chrome::new(name.clone(), "domains", csrf),
        parent: view.parent,
        auto_issued: view.certificate.as_ref().is_some_and(|c| c.auto_issued),
        issuing_ca: view
            .certificate
            .and_then(|c| c.issuing_ca)
            .unwrap_or_default(),
        effective: effective(&state, &name),
        acme: AcmeState {
            enabled: acme.enabled,
            email: acme.email.unwrap_or_default(),
            renew_at: acme.renew_at.unwrap_or_default(),
            failures: acme.failures.map(u64::from).unwrap_or_default(),
            last_error: acme.last_error.flatten().unwrap_or_default(),
            next_attempt: acme.next_attempt.flatten().unwrap_or_default(),
            last_success: acme.last_success.flatten().unwrap_or_default(),
        },
        stored: query
            .as_deref()
            .is_some_and(|q| q.split('&').any(|p| p == "stored=1")),
        min_password: certfleet_api::admin::domains::EXPORT_MIN_PASSWORD,
        cas: super::cas::ca_list(&state)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|ca| ca.name)
            .filter(|name| !crate::cas::is_reserved(name))
            .collect(),
        lifecycle: forms(&state, &name).await,
        chain,
        name,
    };
    html(StatusCode::OK, &page)
}
