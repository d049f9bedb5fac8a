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
//! - [`model`]: the configured platform models as the agents see them;
//! - [`assignment`]: a node's desired state and its revision; [`issue`]: certificates
//!   for CSRs; [`records`]: what is kept in the store;
//! - [`renewal`]: when a certificate is due, and the watches that wake waiting
//!   assignments; [`rollout`], [`rollout_settle`]: staged rollouts of service groups,
//!   resumed and renewals asked for through [`rollout_admin`];
//! - [`report_alerts`]: `deployment_failed` alerts for failed reports; [`unseen`]:
//!   `node_unseen` alerts for nodes gone silent; [`metrics`]: the nodes' and rollout
//!   groups' series of `GET /metrics`;
//! - [`admin`]: the admin API's node routes (tokens, `GET /api/nodes`, built by
//!   [`status`]).

pub mod admin;
pub mod assignment;
pub mod auth;
pub mod ca;
pub mod errors;
pub mod identity;
pub mod issue;
pub mod listener;
pub mod metrics;
pub mod model;
pub mod records;
pub mod renewal;
pub mod report_alerts;
pub mod rollout;
pub mod rollout_admin;
pub mod rollout_settle;
pub mod routes;
pub mod status;
pub mod tokens;
pub mod unseen;

#[cfg(test)]
mod rollout_tests;
#[cfg(test)]
mod tests;

use crate::state::AppState;
use ca::AgentsCa;
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
    /// Bumped whenever something an assignment shows may have changed (a certificate
    /// issued, a report stored); waiting assignment requests look again.
    changes: watch::Sender<u64>,
    /// Set when the server shuts down: waiting assignment requests answer at once.
    stopping: watch::Sender<bool>,
    /// `[agents] identity_days`.
    pub identity_days: u32,
}

impl Agents {
    /// The shared state of an agent listener over `app` with `ca`.
    pub fn new(app: Arc<AppState>, ca: AgentsCa, identity_days: u32) -> Self {
        let records = Records::new(Arc::clone(&app.store));
        Agents {
            app,
            ca,
            records,
            changes: watch::channel(0).0,
            stopping: watch::channel(false).0,
            identity_days,
        }
    }

    /// Wakes the waiting assignment requests.
    pub fn changed(&self) {
        self.changes
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// A receiver of [`Agents::changed`].
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
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
