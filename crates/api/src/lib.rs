//! certfleet-api: the types that cross the wire, shared by the server that answers, the
//! command-line client and agent that ask, and the OpenAPI document generated from them.
//!
//! - [`admin`]: the admin API's answers (domains, status and alerts, platform plan and
//!   apply, scans, errors);
//! - [`agent`]: the protocol between `certfleet agent` on a node and the server's agent
//!   listener: enrolment, the node's assignment (its desired state), certificate
//!   requests and deployment reports;
//! - `client` (with the `client` feature): the admin API's HTTPS client, used by every
//!   command that talks to a running server; `client_cas`: its typed calls about the
//!   server's CAs; `client_context`: the saved context (server, pinned certificate,
//!   token) the client commands fall back on;
//! - [`nodes`]: what the administrator sees of the nodes and their deployments, and the
//!   enrolment tokens the administrator makes; `nodes_text` (with the `client`
//!   feature): the nodes' table in words;
//! - [`rollouts`]: renewals asked for by the administrator and halted staged rollouts
//!   resumed; `rollouts_text` (with the `client` feature): those answers in words.
//!
//! Every type derives serde's `Serialize` and `Deserialize` and utoipa's `ToSchema`; field
//! names are the JSON names. Nothing here holds a private key: keys are made where they
//! are used and only certificates, CSRs and public facts travel.

pub mod admin;
pub mod agent;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "client")]
pub mod client_cas;
#[cfg(feature = "client")]
pub mod client_context;
#[cfg(feature = "client")]
pub mod client_rotation;
pub mod nodes;
#[cfg(feature = "client")]
pub mod nodes_text;
pub mod rollouts;
#[cfg(feature = "client")]
pub mod rollouts_text;
