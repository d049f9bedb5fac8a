//! Endpoint scans (docs/CLI.md `scan`): connect to `HOST:PORT[/SNI]` targets, record
//! the chain each presents and the protocol negotiated, and judge it the way certfleet
//! judges certificates: chain validity against a trust store, hostname match, expiry
//! state and lint findings. Drift (the deployed certificate is not the managed one) is
//! decided by the caller, which knows the managed certificates
//! ([`ScanResult::compare_with_managed`]).
//!
//! - [`target`]: parsing targets (`HOST:PORT`, `HOST:PORT/SNI`, `[IPv6]:PORT`);
//! - [`probe`]: the TLS handshake (rustls, aws-lc-rs; any chain accepted and recorded);
//! - [`assess`]: the judgement of a presented chain;
//! - [`result`]: [`ScanResult`], what `scan --json` prints per target;
//! - [`run`]: [`Scanner`], many targets with bounded concurrency and time-outs;
//! - [`record`]: [`record::ScanRecord`], the stored form, and its store key;
//! - [`drift`]: the comparison of each SNI name's leaf with the server's managed one;
//! - [`table`]: `scan`'s text report.
//!
//! ```no_run
//! use certfleet_monitor::scan::{ScanOptions, Scanner, Target};
//! # async fn example(roots: Vec<rustls_pki_types::CertificateDer<'static>>) {
//! let targets = vec![Target::parse("web.example.test:443").unwrap()];
//! let scanner = Scanner::new(&ScanOptions::default(), roots).unwrap();
//! let results = scanner.scan_all(&targets, |_| {}).await;
//! assert!(results[0].reachable || results[0].error.is_some());
//! # }
//! ```

pub mod assess;
pub mod drift;
pub mod probe;
pub mod record;
pub mod result;
pub mod run;
pub mod table;
pub mod target;

pub use result::{ChainCertificate, ScanResult};
pub use run::{default_profile, ScanOptions, Scanner, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT};
pub use target::{Host, Target};
