//! Helpers shared by the end-to-end tests: running the certfleet binary (and a running
//! `certfleet serve`), test PKIs made with it, and the real peers that judge its output
//! (openssl, pkilint, sslyze, a rustls client).
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod etcd_cluster;
pub mod http1;
pub mod http1_upstream;
pub mod https;
pub mod openssl;
pub mod pebble;
pub mod pki;
pub mod pkilint;
pub mod prober;
pub mod run;
pub mod serve;
pub mod tls_client;
pub mod venv;

mod selftest;
