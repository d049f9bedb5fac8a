//! certfleet-agent: the node agent, `certfleet agent`.
//!
//! It runs on every node of a platform. It enrols once with a token
//! ([`enroll`]), then keeps the node as the server's assignment says ([`run`]): service
//! keys are made and kept on the node ([`service_key`]), only CSRs leave it; the outputs
//! are rendered ([`outputs`]) and written atomically, keeping the previous files for a
//! rollback ([`install`]); a hook the node's own configuration defines makes the service
//! read them ([`hooks`]); the service is checked to serve the new certificate
//! ([`check`]); and every attempt is reported ([`deploy`]).
//!
//! - [`config`]: `agent.toml`, the node's own settings (servers, hooks);
//! - [`data_dir`]: the agent's files (identity, enrolment, state, keys, passwords);
//! - [`atomic`]: writing one file all at once, with its mode and owner;
//! - [`pin`]: trusting the agent listener by the CA pin of an enrolment token;
//! - [`identity`]: the agent's key, client certificate and the agents CA;
//! - [`transport`]: one HTTPS request to one of the servers, in order;
//! - [`client`]: the mutual-TLS client with the agent's identity, and its renewal;
//! - [`material`]: CSRs for the node's keys, public keys and thumbprints of leaves;
//! - [`request`]: what the node sends for a certificate: a CSR with the model's names,
//!   or a self-signed service's certificate signed on the node;
//! - [`passwords`]: keystore passwords made on the node;
//! - [`backoff`]: the retry delays.
//!
//! No function of this crate prints or exits: the binary does.

pub mod atomic;
pub mod backoff;
pub mod check;
pub mod client;
pub mod config;
pub mod data_dir;
pub mod deploy;
pub mod enroll;
mod error;
pub mod hooks;
pub mod identity;
pub mod install;
pub mod material;
pub mod outputs;
pub mod passwords;
pub mod pin;
pub mod request;
pub mod run;
pub mod service_key;
pub mod transport;

pub use error::{AgentError, Result};

/// The agent's version, sent in every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
