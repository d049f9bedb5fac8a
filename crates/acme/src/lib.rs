//! certfleet's ACME client, on instant-acme:
//!
//! - [`account`]: accounts per directory and contact, kept sealed in the store and reused;
//! - [`ari`]: the CA's suggested renewal window, when it publishes one;
//! - [`challenges`]: HTTP-01 and TLS-ALPN-01 answers, shared by every node through the store;
//! - [`order`]: one order for one name, from a new key to the certificate chain;
//! - [`schedule`]: when to renew (two thirds in, ARI, jitter) and back-off after failures;
//! - [`state`]: each domain's progress (failures, last error, next attempt) in the store;
//! - [`http`]: the HTTPS client with `[acme] ca_bundle` trusted.
//!
//! Deciding which domains are due and storing what was issued is the server's part.

pub mod account;
pub mod ari;
pub mod challenges;
mod error;
pub mod http;
pub mod order;
pub mod schedule;
pub mod state;

pub use error::{AcmeError, Result};
