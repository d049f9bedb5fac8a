//! The automatic renewal of domain certificates issued by the server's own CAs.
//!
//! A domain whose certificate carries the [`CaIssued`] header (and has ACME off: a
//! domain with ACME on is ACME's to renew) is renewed on the schedule ACME certificates
//! follow, certfleet-acme's [`next_order_at`]: two thirds into the certificate's lifetime
//! (with its small stable jitter), and after a failure not before the back-off it
//! recorded ([`backoff`]: 5 s doubling up to an hour). The renewal keeps the CA, the key
//! type, the usage and the lifetime the header names; it goes through
//! [`issue_for_domain`], so the new certificate is sealed in the store, audited
//! (`domain.ca-renewed` and the CA's `ca.renew`), logged and served at once.
//!
//! Every [`TICK`] the loop looks for due domains. Each renewal runs under the store
//! lock `locks/ca-renewal/DOMAIN`, so in a cluster one server renews and the others
//! skip it; the lock holder first re-reads the domains from the store, so a renewal
//! just made by another server is seen before the due check is made again. Progress
//! (failures, back-off, last success) is kept in the store under `ca-renewal/DOMAIN`
//! for every server's `status`. A manual upload drops the header, which ends renewal.

use super::domain_issue::{issue_for_domain, IssueReason};
use super::issued_mark::CaIssued;
use crate::state::AppState;
use certfleet_acme::renewal::TICK;
use certfleet_acme::schedule::{backoff, next_order_at};
use certfleet_acme::state::AcmeProgress;
use certfleet_edge::certificate::{now_unix, CertificateSummary};
use certfleet_monitor::alerts::AlertKind;
use certfleet_store::{keys, Storage};
use std::sync::Arc;
use std::time::Duration;

/// Who renewals are audited as.
pub const ACTOR: &str = "ca-renewal";
/// How long a renewal may hold its domain's lock.
const LOCK_TTL: Duration = Duration::from_secs(60);

/// A domain certificate issued by a server CA, as the schedule sees it.
#[derive(Debug, Clone)]
pub struct CaRenewed {
    /// The domain.
    pub domain: String,
    /// How it was issued and is renewed.
    pub issued: CaIssued,
    /// The certificate it serves.
    pub summary: CertificateSummary,
}

/// The domains whose certificate a server CA issued and renews (ACME off), by name.
pub async fn renewed_domains(state: &AppState) -> Vec<CaRenewed> {
    state
        .domains
        .read(|tree| {
            tree.iter()
                .filter(|domain| !domain.acme().enabled)
                .filter_map(|domain| {
                    let certificate = domain.certificate()?;
                    Some(CaRenewed {
                        domain: domain.name().to_owned(),
                        issued: CaIssued::read(certificate.pem())?,
                        summary: certificate.served().summary().clone(),
                    })
                })
                .collect()
        })
        .await
}

/// Whether `domain`'s renewal is due at `now` by the one renewal schedule.
pub fn is_due(domain: &CaRenewed, progress: &AcmeProgress, now: i64) -> bool {
    next_order_at(Some(&domain.summary), progress).is_some_and(|at| at <= now)
}

/// The stored renewal progress of `domain` (default when none is stored).
pub async fn progress(store: &dyn Storage, domain: &str) -> Result<AcmeProgress, String> {
    let key = keys::ca_renewal_state(domain).map_err(|e| e.to_string())?;
    match store.get(&key).await.map_err(|e| e.to_string())? {
        None => Ok(AcmeProgress::default()),
        Some(entry) => serde_json::from_slice(&entry.value)
            .map_err(|e| format!("the stored renewal progress of {domain}: {e}")),
    }
}

/// Forgets `domain`'s renewal progress (a new certificate was issued by hand: its
/// renewals start afresh, without an earlier back-off).
pub async fn forget_progress(store: &dyn Storage, domain: &str) -> Result<(), String> {
    let key = keys::ca_renewal_state(domain).map_err(|e| e.to_string())?;
    store.delete(&key).await.map_err(|e| e.to_string())?;
    Ok(())
}

async fn save_progress(
    store: &dyn Storage,
    domain: &str,
    progress: &AcmeProgress,
) -> Result<(), String> {
    let key = keys::ca_renewal_state(domain).map_err(|e| e.to_string())?;
    let value = serde_json::to_vec(progress).map_err(|e| e.to_string())?;
    store.put(&key, &value).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Runs the renewal loop until the task is dropped.
pub async fn run(state: Arc<AppState>) {
    let mut ticker = tokio::time::interval(TICK);
    loop {
        ticker.tick().await;
        let now = now_unix();
        for domain in renewed_domains(&state).await {
            match progress(state.store.as_ref(), &domain.domain).await {
                Ok(progress) if is_due(&domain, &progress, now) => {
                    attempt(&state, &domain.domain).await;
                }
                Ok(_) => {}
                Err(err) => tracing::error!("ca renewal: {}: {err}", domain.domain),
            }
        }
    }
}

/// One renewal of `name`, under its lock; skipped when another server holds it or when
/// it is no longer due once the domains are re-read.
async fn attempt(state: &AppState, name: &str) {
    let lock = match keys::ca_renewal_lock(name) {
        Ok(key) => state.store.try_lock(&key, LOCK_TTL).await,
        Err(err) => Err(err),
    };
    let guard = match lock {
        Ok(Some(guard)) => guard,
        Ok(None) => return, // another server is renewing this domain
        Err(err) => {
            tracing::error!("ca renewal: {name}: cannot take the renewal lock: {err}");
            return;
        }
    };
    if let Err(err) = state.domains.reload_from_store().await {
        tracing::error!("ca renewal: {name}: re-reading the domains: {err}");
    }
    let store = state.store.as_ref();
    let current = renewed_domains(state)
        .await
        .into_iter()
        .find(|domain| domain.domain == name);
    let due = match (current, progress(store, name).await) {
        (Some(domain), Ok(progress)) if is_due(&domain, &progress, now_unix()) => {
            Some((domain, progress))
        }
        (_, Err(err)) => {
            tracing::error!("ca renewal: {name}: {err}");
            None
        }
        _ => None,
    };
    if let Some((domain, mut progress)) = due {
        let replacing = IssueReason::Renewal(domain.summary.sha1_thumbprint.clone());
        let outcome = issue_for_domain(state, ACTOR, name, &domain.issued, replacing)
            .await
            .map_err(|err| err.to_string());
        record(state, &domain, &mut progress, outcome.map(|_| ()));
        if let Err(err) = save_progress(store, name, &progress).await {
            tracing::error!("ca renewal: {name}: saving its progress: {err}");
        }
    }
    if let Err(err) = guard.release().await {
        tracing::warn!("ca renewal: {name}: releasing the renewal lock: {err}");
    }
}

/// Records the outcome in `progress`; a failure is logged and raised as an alert.
fn record(
    state: &AppState,
    domain: &CaRenewed,
    progress: &mut AcmeProgress,
    outcome: Result<(), String>,
) {
    let now = now_unix();
    match outcome {
        Ok(()) => {
            *progress = AcmeProgress {
                last_success_unix: Some(now),
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
                AlertKind::CaRenewalFailed,
                Some(&domain.domain),
                format!(
                    "domain {}: renewal {} from CA {} failed: {reason}; next attempt in {}s",
                    domain.domain,
                    progress.failures,
                    domain.issued.ca,
                    wait.as_secs()
                ),
                1,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_api::admin::ca_requests::{KeyJson, UsageJson};

    fn renewed(not_before: i64, lifetime: i64) -> CaRenewed {
        CaRenewed {
            domain: "shop.example.test".into(),
            issued: CaIssued {
                ca: "internal".into(),
                key: KeyJson::EcdsaP256,
                usage: UsageJson::Server,
                lifetime_seconds: lifetime as u32,
            },
            summary: CertificateSummary {
                sha1_thumbprint: "0000000000".into(),
                not_after: String::new(),
                not_after_unix: not_before + lifetime,
                not_before_unix: not_before,
                sans: Vec::new(),
                auto_issued: true,
            },
        }
    }

    #[test]
    fn a_ca_certificate_is_due_two_thirds_into_its_lifetime() {
        let domain = renewed(1_000, 90);
        let fresh = AcmeProgress::default();
        assert!(!is_due(&domain, &fresh, 1_000));
        assert!(!is_due(&domain, &fresh, 1_059));
        // The jitter is at most 1/50 of the lifetime: 1 s of 90.
        assert!(is_due(&domain, &fresh, 1_061));
        let day = 86_400;
        let long = renewed(0, 30 * day);
        assert!(!is_due(&long, &fresh, 20 * day - 1));
        assert!(is_due(&long, &fresh, 20 * day + 3_600));
    }

    #[test]
    fn a_failure_waits_for_its_back_off() {
        let domain = renewed(1_000, 90);
        let failed = AcmeProgress {
            failures: 1,
            next_attempt_unix: Some(2_000),
            ..AcmeProgress::default()
        };
        assert!(!is_due(&domain, &failed, 1_500));
        assert!(is_due(&domain, &failed, 2_000));
    }

    #[test]
    fn a_certificate_uploaded_by_hand_is_never_due() {
        let mut domain = renewed(1_000, 90);
        domain.summary.auto_issued = false;
        assert!(!is_due(&domain, &AcmeProgress::default(), i64::MAX));
    }
}
