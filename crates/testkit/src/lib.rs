//! certfleet's test PKI: certificate authorities, leaves and merged PEM bundles made at
//! test time, so no test checks in a key. Every crate of the workspace takes it as a
//! dev-dependency only; nothing here is part of the product.
//!
//! - [`TestCa`]: a root, optionally with an intermediate, that issues leaves.
//! - [`server_leaf`], [`self_signed`]: leaves described by certfleet's own
//!   [`LeafRequest`](certfleet_pki::issue::LeafRequest), made by certfleet's issuing code.
//! - [`merged_pem`], [`bundle_pem`], [`expired_pem`], [`not_yet_valid_pem`],
//!   [`mismatched_pem`]: merged bundles (key then certificates) as certfleet reads them.
//! - [`chain_der`]: a root, an intermediate and a leaf as DER.
//!
//! Every helper panics when it cannot make what it was asked for: in a test that is the
//! failure to report.

// Test support: a certificate that cannot be made is a failed test, so panicking is the
// error handling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ca;
mod leaf;
mod pem;
#[cfg(test)]
mod tests;

pub use ca::{chain_der, TestCa};
pub use leaf::{self_signed, server_leaf};
pub use pem::{bundle_pem, expired_pem, merged_pem, mismatched_pem, not_yet_valid_pem};
