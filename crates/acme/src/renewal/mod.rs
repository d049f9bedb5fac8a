//! Automatic issuance and renewal for the domains with ACME on.
//!
//! Every [`TICK`] the loop asks its [`RenewalTarget`] for the ACME domains: each one
//! whose next order is due ([`crate::schedule::next_order_at`]) and not already running
//! gets an [`attempt`] on a task of its own, at most [`PARALLEL_ORDERS`] at once. An
//! attempt runs under the store lock of its domain, so in a cluster one node orders and
//! the others skip it; the challenge answers live in the store, so whichever node the
//! ACME server reaches answers. TLS-ALPN-01 answers published by other nodes are picked
//! up every second.
//!
//! - [`target`]: what the loop needs from the domains' owner ([`RenewalTarget`]);
//! - [`attempt`]: one order, storing the certificate or recording the failure.

pub mod attempt;
pub mod target;

pub use target::{AcmeDomain, RenewalTarget, StoreIssuedError};

use crate::account::AccountBook;
use crate::challenges::Challenges;
use crate::order::ChallengeKind;
use crate::schedule::next_order_at;
use crate::state::ProgressBook;
use certfleet_edge::certificate::now_unix;
use certfleet_store::Storage;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How often the loop looks for due domains.
pub const TICK: Duration = Duration::from_secs(2);
/// How many orders may run at once.
pub const PARALLEL_ORDERS: usize = 8;
/// How often TLS-ALPN-01 answers published by other nodes are picked up.
const ALPN_SYNC: Duration = Duration::from_secs(1);

/// The accounts and the orders running on this node.
pub struct AcmeService {
    /// Accounts at the configured directory.
    pub accounts: AccountBook,
    /// Names with an attempt running on this node.
    running: Mutex<HashSet<String>>,
    slots: Semaphore,
}

impl AcmeService {
    /// The service for the configured directory.
    pub fn new(accounts: AccountBook) -> AcmeService {
        AcmeService {
            accounts,
            running: Mutex::new(HashSet::new()),
            slots: Semaphore::new(PARALLEL_ORDERS),
        }
    }

    /// Marks `name` running; false when it already was.
    fn start(&self, name: &str) -> bool {
        self.running
            .lock()
            .map(|mut running| running.insert(name.to_owned()))
            .unwrap_or(false)
    }

    fn finish(&self, name: &str) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(name);
        }
    }
}

/// Everything the renewal loop works with.
pub struct RenewalLoop<T> {
    /// Accounts and running orders.
    pub service: Arc<AcmeService>,
    /// Where progress, order locks and challenge answers are kept.
    pub store: Arc<dyn Storage>,
    /// The challenge answers shared by every node.
    pub challenges: Arc<Challenges>,
    /// The challenge orders answer (`[acme] challenge`).
    pub challenge: ChallengeKind,
    /// The domains.
    pub target: T,
}

impl<T: RenewalTarget> RenewalLoop<T> {
    /// Runs the loop until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        let challenges = Arc::clone(&self.challenges);
        let alpn_sync = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(ALPN_SYNC);
            loop {
                ticker.tick().await;
                if let Err(err) = challenges.sync_tls_alpn01().await {
                    tracing::error!("acme: reading TLS-ALPN-01 answers from the store: {err}");
                }
            }
        });
        // Ends the answer sync with the loop, whether the loop's task ends or is dropped.
        let _alpn_sync = AbortOnDrop(alpn_sync);
        let mut ticker = tokio::time::interval(TICK);
        loop {
            ticker.tick().await;
            for (name, email) in due_now(self.store.as_ref(), &self.target).await {
                if !self.service.start(&name) {
                    continue;
                }
                let renewal = Arc::clone(&self);
                tokio::spawn(async move {
                    if let Ok(_slot) = renewal.service.slots.acquire().await {
                        attempt::attempt(&renewal, &name, &email).await;
                    }
                    renewal.service.finish(&name);
                });
            }
        }
    }
}

/// The domains of `target` whose order is due now (by their progress in `store`), with
/// their contact address; a domain without one is left out.
async fn due_now<T: RenewalTarget>(store: &dyn Storage, target: &T) -> Vec<(String, String)> {
    let book = ProgressBook::new(store);
    let now = now_unix();
    let mut due = Vec::new();
    for domain in target.acme_domains().await {
        let Some(email) = domain.email else {
            continue;
        };
        let progress = match book.get(&domain.name).await {
            Ok(progress) => progress,
            Err(err) => {
                tracing::error!("acme: {}: reading its progress: {err}", domain.name);
                continue;
            }
        };
        if next_order_at(domain.certificate.as_ref(), &progress).is_some_and(|at| at <= now) {
            due.push((domain.name, email));
        }
    }
    due
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests;
