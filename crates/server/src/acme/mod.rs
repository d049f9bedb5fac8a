//! Automatic issuance and renewal for domains with ACME on.
//!
//! Every [`TICK`] the scheduler looks at the tree: each ACME domain whose next order is
//! due ([`due`]) and not already running gets an [`attempt`] on a task of its own, at
//! most [`PARALLEL_ORDERS`] at once. An attempt runs under the store lock of its domain,
//! so in a cluster one node orders and the others skip it; the challenge answers live in
//! the store, so whichever node the ACME server reaches answers.
//!
//! - [`due`]: the renewal moment and back-off decision;
//! - [`attempt`]: one order, storing the certificate or the failure.

pub mod attempt;
pub mod due;

use super::state::AppState;
use certfleet_acme::account::AccountBook;
use certfleet_acme::challenges::Challenges;
use certfleet_acme::state::ProgressBook;
use certfleet_edge::certificate::now_unix;
use certfleet_edge::sni::ChallengeCertificates;
use rustls::sign::CertifiedKey;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How often the scheduler looks for due domains.
pub const TICK: Duration = Duration::from_secs(2);
/// How many orders may run at once.
pub const PARALLEL_ORDERS: usize = 8;
/// How often TLS-ALPN-01 answers published by other nodes are picked up.
const ALPN_SYNC: Duration = Duration::from_secs(1);

/// The ACME side of a running server.
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

/// TLS-ALPN-01 certificates for the handshake path, from the shared answers.
pub struct AlpnAnswers(pub Arc<Challenges>);

impl std::fmt::Debug for AlpnAnswers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AlpnAnswers")
    }
}

impl ChallengeCertificates for AlpnAnswers {
    fn challenge_certificate(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        self.0.tls_alpn01_certificate(name)
    }
}

/// Runs the scheduler until the task is dropped.
pub async fn run(state: Arc<AppState>, acme: Arc<AcmeService>) {
    let challenges = Arc::clone(&state.challenges);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(ALPN_SYNC);
        loop {
            ticker.tick().await;
            if let Err(err) = challenges.sync_tls_alpn01().await {
                tracing::error!("acme: reading TLS-ALPN-01 answers from the store: {err}");
            }
        }
    });
    let mut ticker = tokio::time::interval(TICK);
    loop {
        ticker.tick().await;
        for (name, email) in due_now(&state).await {
            if !acme.start(&name) {
                continue;
            }
            let (state, acme) = (Arc::clone(&state), Arc::clone(&acme));
            tokio::spawn(async move {
                if let Ok(_slot) = acme.slots.acquire().await {
                    attempt::attempt(&state, &acme, &name, &email).await;
                }
                acme.finish(&name);
            });
        }
    }
}

/// The ACME domains whose order is due now, with their contact address.
async fn due_now(state: &AppState) -> Vec<(String, String)> {
    let candidates: Vec<_> = state
        .domains
        .read(|tree| {
            tree.iter()
                .filter(|domain| domain.acme().enabled)
                .filter_map(|domain| {
                    let email = domain.acme().email.clone()?;
                    let summary = domain.certificate().map(|c| c.served().summary().clone());
                    Some((domain.name().to_owned(), email, summary))
                })
                .collect()
        })
        .await;
    let book = ProgressBook::new(state.store.as_ref());
    let now = now_unix();
    let mut due = Vec::new();
    for (name, email, summary) in candidates {
        let progress = match book.get(&name).await {
            Ok(progress) => progress,
            Err(err) => {
                tracing::error!("acme: {name}: reading its progress: {err}");
                continue;
            }
        };
        if due::next_order_at(summary.as_ref(), &progress).is_some_and(|at| at <= now) {
            due.push((name, email));
        }
    }
    due
}
