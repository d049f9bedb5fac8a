//! Helpers shared by the end-to-end tests: running the certfleet binary, and the
//! real peers that judge its output (openssl, pkilint).
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod openssl;
pub mod pkilint;
pub mod run;

mod selftest;
