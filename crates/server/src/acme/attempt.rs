//! One ACME attempt for one domain: under the domain's store lock (skipped when another
//! node holds it), check it is still due, order the certificate, and either store it in
//! the domain (marked automatic, served at once) or record the failure with its back-off,
//! log it and raise an alert.

use super::due::next_order_at;
use super::AcmeService;
use crate::domain_service::DomainError;
use crate::state::AppState;
use certfleet_acme::account::ACTOR;
use certfleet_acme::ari::renewal_window;
use certfleet_acme::order::{order_certificate, Issued};
use certfleet_acme::schedule::backoff;
use certfleet_acme::state::{AcmeProgress, ProgressBook};
use certfleet_edge::certificate::{now_unix, AUTO_ISSUED_HEADER};
use certfleet_store::Key;
use std::time::Duration;

/// How long an order may hold the domain's lock (renewed while held).
const ORDER_LOCK_TTL: Duration = Duration::from_secs(60);

/// Runs one attempt for `name`, ordering with the account of `email`.
pub async fn attempt(state: &AppState, acme: &AcmeService, name: &str, email: &str) {
    let lock = match Key::from_segments(["locks", "acme-order", name]) {
        Ok(key) => state.store.try_lock(&key, ORDER_LOCK_TTL).await,
        Err(err) => Err(err),
    };
    let guard = match lock {
        Ok(Some(guard)) => guard,
        Ok(None) => return, // another node is ordering for this domain
        Err(err) => {
            tracing::error!("acme: {name}: cannot take the order lock: {err}");
            return;
        }
    };
    let book = ProgressBook::new(state.store.as_ref());
    let mut progress = match book.get(name).await {
        Ok(progress) => progress,
        Err(err) => {
            tracing::error!("acme: {name}: reading its progress: {err}");
            return;
        }
    };
    if still_due(state, name, &progress).await {
        let outcome = order_and_store(state, acme, name, email).await;
        record(state, name, &mut progress, outcome).await;
        if let Err(err) = book.put(name, &progress).await {
            tracing::error!("acme: {name}: saving its progress: {err}");
        }
    }
    if let Err(err) = guard.release().await {
        tracing::warn!("acme: {name}: releasing the order lock: {err}");
    }
}

/// Another node may have renewed, or the domain changed, while this one waited.
async fn still_due(state: &AppState, name: &str, progress: &AcmeProgress) -> bool {
    state
        .domains
        .read(|tree| {
            let Some(domain) = tree.get(name) else {
                return false;
            };
            if !domain.acme().enabled {
                return false;
            }
            let summary = domain.certificate().map(|c| c.served().summary().clone());
            next_order_at(summary.as_ref(), progress).is_some_and(|at| at <= now_unix())
        })
        .await
}

/// What an order left behind: the renewal window the CA suggested, when it gave one.
struct Success {
    renewal_window: Option<(i64, i64)>,
}

async fn order_and_store(
    state: &AppState,
    acme: &AcmeService,
    name: &str,
    email: &str,
) -> Result<Success, String> {
    let account = acme
        .accounts
        .account(email)
        .await
        .map_err(|e| format!("account for {email}: {e}"))?;
    let kind = state.config.acme_challenge;
    let issued = order_certificate(&account, name, kind, &state.challenges)
        .await
        .map_err(|e| e.to_string())?;
    store(state, name, &issued).await?;
    let renewal_window = renewal_window(&account, &issued.chain_pem).await;
    Ok(Success { renewal_window })
}

/// Puts the certificate into the domain, marked as automatically issued.
async fn store(state: &AppState, name: &str, issued: &Issued) -> Result<(), String> {
    let merged = zeroize::Zeroizing::new(format!(
        "{AUTO_ISSUED_HEADER}\n{}{}",
        issued.key_pem.as_str(),
        issued.chain_pem
    ));
    let report = state
        .domains
        .change(
            ACTOR,
            "domain.acme-issued",
            |tree| {
                let report = tree.set_certificate(name, &merged, false)?;
                Ok((name.to_owned(), report))
            },
            |_, _, report| report,
        )
        .await
        .map_err(|e| match e {
            DomainError::Edge(e) => format!("the issued certificate was refused: {e}"),
            other => format!("storing the issued certificate: {other}"),
        })?;
    tracing::info!(
        "acme: {name}: certificate issued (SHA-1 {}, valid until {})",
        report.summary.sha1_thumbprint,
        report.summary.not_after
    );
    Ok(())
}

async fn record(
    state: &AppState,
    name: &str,
    progress: &mut AcmeProgress,
    outcome: Result<Success, String>,
) {
    let now = now_unix();
    match outcome {
        Ok(success) => {
            *progress = AcmeProgress {
                last_success_unix: Some(now),
                renewal_window: success.renewal_window,
                ..AcmeProgress::default()
            };
        }
        Err(reason) => {
            progress.failures += 1;
            let wait = backoff(progress.failures);
            progress.last_error = Some(reason.clone());
            progress.last_failure_unix = Some(now);
            progress.next_attempt_unix = Some(now + wait.as_secs() as i64 + 1);
            state.alerts.raise(
                "acme_failed",
                Some(name),
                format!(
                    "domain {name}: ACME attempt {} failed: {reason}; next attempt in {}s",
                    progress.failures,
                    wait.as_secs()
                ),
                1,
            );
        }
    }
}
