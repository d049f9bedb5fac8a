//! One ACME attempt for one domain: under the domain's store lock (skipped when another
//! node holds it), check it is still due, order the certificate, and either store it in
//! the domain through the [`RenewalTarget`] or record the failure with its back-off, log
//! it and raise it.

use super::{RenewalLoop, RenewalTarget};
use crate::ari::renewal_window;
use crate::order::order_certificate;
use crate::schedule::{backoff, next_order_at};
use crate::state::{AcmeProgress, ProgressBook};
use certfleet_edge::certificate::now_unix;
use certfleet_store::keys;
use std::time::Duration;

/// How long an order may hold the domain's lock (renewed while held).
const ORDER_LOCK_TTL: Duration = Duration::from_secs(60);

/// Runs one attempt for `name`, ordering with the account of `email`.
pub async fn attempt<T: RenewalTarget>(renewal: &RenewalLoop<T>, name: &str, email: &str) {
    let lock = match keys::acme_order_lock(name) {
        Ok(key) => renewal.store.try_lock(&key, ORDER_LOCK_TTL).await,
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
    let book = ProgressBook::new(renewal.store.as_ref());
    let mut progress = match book.get(name).await {
        Ok(progress) => progress,
        Err(err) => {
            tracing::error!("acme: {name}: reading its progress: {err}");
            return;
        }
    };
    if still_due(&renewal.target, name, &progress).await {
        let outcome = order_and_store(renewal, name, email).await;
        record(&renewal.target, name, &mut progress, outcome);
        if let Err(err) = book.put(name, &progress).await {
            tracing::error!("acme: {name}: saving its progress: {err}");
        }
    }
    if let Err(err) = guard.release().await {
        tracing::warn!("acme: {name}: releasing the order lock: {err}");
    }
}

/// Another node may have renewed, or the domain changed, while this one waited.
async fn still_due<T: RenewalTarget>(target: &T, name: &str, progress: &AcmeProgress) -> bool {
    target
        .acme_domains()
        .await
        .into_iter()
        .find(|domain| domain.name == name)
        .is_some_and(|domain| {
            next_order_at(domain.certificate.as_ref(), progress).is_some_and(|at| at <= now_unix())
        })
}

/// What an order left behind: the renewal window the CA suggested, when it gave one.
struct Success {
    renewal_window: Option<(i64, i64)>,
}

async fn order_and_store<T: RenewalTarget>(
    renewal: &RenewalLoop<T>,
    name: &str,
    email: &str,
) -> Result<Success, String> {
    let account = renewal
        .service
        .accounts
        .account(email)
        .await
        .map_err(|e| format!("account for {email}: {e}"))?;
    let issued = order_certificate(&account, name, renewal.challenge, &renewal.challenges)
        .await
        .map_err(|e| e.to_string())?;
    let summary = renewal
        .target
        .store_issued(name, &issued)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        "acme: {name}: certificate issued (SHA-1 {}, valid until {})",
        summary.sha1_thumbprint,
        summary.not_after
    );
    let renewal_window = renewal_window(&account, &issued.chain_pem).await;
    Ok(Success { renewal_window })
}

/// Records the outcome in `progress`; a failure is also raised through the target.
fn record<T: RenewalTarget>(
    target: &T,
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
            target.attempt_failed(
                name,
                format!(
                    "domain {name}: ACME attempt {} failed: {reason}; next attempt in {}s",
                    progress.failures,
                    wait.as_secs()
                ),
            );
        }
    }
}
