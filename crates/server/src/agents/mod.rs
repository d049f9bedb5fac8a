//! The agent side of the server: where `certfleet agent` on the nodes of a platform
//! enrols, fetches its node's assignment, sends CSRs for keys made on the node, and
//! reports what it deployed (the protocol: [`certfleet_api::agent`]).
//!
//! - [`ca`]: the agents CA, made on first start and kept sealed in the store;
//! - [`listener`]: the agent listener (`[agents] listen`): TLS with optional client
//!   certificates verified against the agents CA, and its axum router ([`routes`]);
//! - [`auth`]: the agent identity (platform, node) of a request, from its verified
//!   client certificate ([`identity`]), and the refusal of anything of another node;
//! - [`tokens`]: single-use enrolment tokens, stored hashed;
//! - [`model`]: the configured platform models as the agents see them, kept loaded by
//!   [`model_cache`] with each platform's wake-up channel;
//! - [`assignment`]: a node's desired state and its revision, with each service's
//!   certificate [`profile`]; [`issue`]: certificates for CSRs; [`self_signed`]: the
//!   certificates nodes sign themselves for self-signed services; [`reply`]: an
//!   external CA's replies to nodes' CSRs ([`cert_checks`] compares both with the
//!   model); [`stored_trust`]: the anchors of those certificates for their peers;
//!   [`records`]: what is kept in the store;
//! - [`acme_orders`]: ACME orders finalised with nodes' CSRs for `ca = "acme"` services,
//!   run in the background by [`acme_order_runs`];
//! - [`renewal`]: when a certificate is due, and the watches that wake waiting
//!   assignments; [`rollout`], [`rollout_settle`]: staged rollouts of service groups,
//!   resumed and renewals asked for through [`rollout_admin`];
//! - [`rotation`]: CA and keys rotations the server carries out through the agents,
//!   started and shown through [`rotation_admin`], each node's progress judged by
//!   [`rotation_progress`] and the phases moved on by [`rotation_advance`];
//! - [`report_alerts`]: `deployment_failed` alerts for failed reports; [`unseen`]:
//!   `node_unseen` alerts for nodes gone silent; [`metrics`]: the nodes' and rollout
//!   groups' series of `GET /metrics`;
//! - [`admin`]: the admin API's node routes (tokens, revocation, `GET /api/nodes`, built
//!   by [`status`]); [`external_admin`]: the external CA's CSRs and replies.

pub mod acme_order_runs;
pub mod acme_orders;
pub mod admin;
pub mod assignment;
pub mod auth;
pub mod ca;
pub mod cert_checks;
pub mod errors;
pub mod external_admin;
pub mod identity;
pub mod issue;
pub mod listener;
pub mod metrics;
pub mod model;
pub mod model_cache;
pub mod profile;
pub mod records;
pub mod renewal;
pub mod reply;
pub mod report_alerts;
pub mod rollout;
pub mod rollout_admin;
pub mod rollout_settle;
pub mod rotation;
pub mod rotation_admin;
pub mod rotation_advance;
pub mod rotation_progress;
pub mod routes;
pub mod self_signed;
pub mod shared;
pub mod status;
pub mod stored_trust;
pub mod tokens;
pub mod unseen;

#[cfg(test)]
mod acme_orders_tests;
#[cfg(test)]
mod issuers_tests;
#[cfg(test)]
mod rollout_tests;
#[cfg(test)]
mod shared_tests;
#[cfg(test)]
mod tests;

use crate::state::AppState;
use ca::AgentsCa;
use model_cache::ModelCache;
use records::Records;
use std::sync::Arc;
use tokio::sync::watch;

/// What the agent listener's handlers share.
pub struct Agents {
    /// The server's state (configuration, store, master key).
    pub app: Arc<AppState>,
    /// The agents CA.
    pub ca: AgentsCa,
    /// The agent records in the store.
    pub records: Records,
    /// The platforms' models, and the channels that wake the waiting assignment
    /// requests of a platform when something its assignments show may have changed.
    pub models: ModelCache,
    /// Set when the server shuts down: waiting assignment requests answer at once.
    stopping: watch::Sender<bool>,
    /// `[agents] identity_days`.
    pub identity_days: u32,
}

impl Agents {
    /// The shared state of an agent listener over `app` with `ca`.
    pub fn new(app: Arc<AppState>, ca: AgentsCa, identity_days: u32) -> Self {
        let records = Records::new(Arc::clone(&app.store));
        let models = ModelCache::new(&app.config.platforms, Some(Arc::clone(&app.master_key)));
        Agents {
            app,
            ca,
            models,
            records,
            stopping: watch::channel(false).0,
            identity_days,
        }
    }

    /// Wakes the waiting assignment requests of `platform`: something their answers
    /// show may have changed (a certificate issued, a report stored, a turn given).
    pub fn changed(&self, platform: &str) {
        self.models.wake(platform);
    }

    /// Ends the waits of assignment requests: the server is shutting down.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// A receiver of [`Agents::stop`].
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }
}

/// Starts the background watches of `agents`, which run until [`Agents::stop`]: renewals
/// coming due and rollouts settled ([`renewal::watch_due`]), silent nodes
/// ([`unseen::watch`]), the rotations the server drives ([`rotation_advance::run`]), the
/// store's certificates and rollouts changed by any server
/// ([`renewal::watch_store`]) and the models' files edited
/// ([`model_cache::watch_files`]); each wakes the waiting assignment requests of the
/// platform concerned.
pub fn spawn_watches(agents: &Arc<Agents>) {
    tokio::spawn(renewal::watch_due(Arc::clone(agents)));
    tokio::spawn(unseen::watch(Arc::clone(agents)));
    tokio::spawn(acme_order_runs::run(Arc::clone(agents)));
    tokio::spawn(rotation_advance::run(Arc::clone(agents)));
    for prefix in ["certs", "rollouts"] {
        tokio::spawn(renewal::watch_store(Arc::clone(agents), prefix));
    }
    let files = Arc::clone(agents);
    tokio::spawn(async move {
        model_cache::watch_files(&files.models, files.stopping()).await;
    });
}
