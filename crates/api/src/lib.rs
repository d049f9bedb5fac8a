//! certfleet-api: the types that cross the wire, shared by the server that answers, the
//! command-line client and agent that ask, and the OpenAPI document generated from them.
//!
//! - [`admin`]: the admin API's answers (domains, status and alerts, platform plan and
//!   apply, scans, errors);
//! - [`agent`]: the protocol between `certfleet agent` on a node and the server's agent
//!   listener: enrolment, the node's assignment (its desired state), certificate
//!   requests and deployment reports;
//! - `client` (with the `client` feature): the admin API's HTTPS client, used by every
//!   command that talks to a running server; `client_connect`: where it connects and with which
//!   token and pin; `client_cas`: its typed calls about the server's CAs; `client_domains`: its typed calls about the domain tree;
//!   `client_platforms`: about the platforms' nodes, CSRs, renewals and rollouts;
//!   `client_scans`: what `certfleet scan` asks of and records in the server;
//!   `client_context`: the saved context (server, pinned certificate,
//!   token) the client commands fall back on, and `client_context_text` it in words;
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
pub mod client_connect;
#[cfg(feature = "client")]
pub mod client_context;
#[cfg(feature = "client")]
pub mod client_context_text;
#[cfg(feature = "client")]
pub mod client_domains;
#[cfg(feature = "client")]
pub mod client_platforms;
#[cfg(feature = "client")]
pub mod client_rotation;
#[cfg(feature = "client")]
pub mod client_scans;
pub mod nodes;
#[cfg(feature = "client")]
pub mod nodes_text;
pub mod rollouts;
#[cfg(feature = "client")]
pub mod rollouts_text;
