//! certfleet-acme: certificates from an ACME CA (on instant-acme), issued and renewed
//! automatically. The crate owns the ACME client, the renewal schedule and the renewal
//! loop; the domains themselves belong to whoever implements
//! [`renewal::RenewalTarget`] (the server, over its domain tree).
//!
//! - [`account`]: accounts per directory and contact, kept sealed in the store and reused;
//! - [`ari`]: the CA's suggested renewal window, when it publishes one;
//! - [`challenges`]: HTTP-01 and TLS-ALPN-01 answers, shared by every node through the store;
//! - [`order`]: one order for one name, from a new key to the certificate chain;
//! - [`csr_order`]: an order finalised with a CSR made elsewhere (the key stays there);
//! - [`schedule`]: the one renewal policy: when a domain's next order is due (two thirds
//!   into the lifetime or the start of an earlier ARI window, plus a stable jitter from
//!   the thumbprint) and the back-off after failures;
//! - [`state`]: each domain's progress (failures, last error, next attempt) in the store;
//! - [`renewal`]: the renewal loop ([`renewal::RenewalLoop`]): which domains are due,
//!   one attempt per domain under its store lock, the outcome stored through the
//!   [`renewal::RenewalTarget`] and in the progress;
//! - [`http`]: the HTTPS client with `[acme] ca_bundle` trusted; `http_failure`: why a
//!   request to the ACME server failed, with its URL, in words.

pub mod account;
pub mod ari;
pub mod challenges;
pub mod csr_order;
mod error;
pub mod http;
mod http_failure;
pub mod order;
pub mod renewal;
pub mod schedule;
pub mod state;

pub use error::{AcmeError, Result};
