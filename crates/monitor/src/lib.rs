//! certfleet-monitor: keeping watch over certificates. The crate owns the expiry states,
//! the inventory of every managed certificate and where it comes from, the expiry
//! watcher with its webhook, the alert board, the metrics and endpoint scans. It reads
//! nothing of the server: the domains' certificates come through
//! [`sources::DomainCertificates`], the served ones from the edge's hub, and the
//! settings are handed in.
//!
//! - [`expiry`]: the expiry state of a certificate (`ok`, `warning`, `expired`) against
//!   the warning window of `[monitor] warn_days`;
//! - [`inventory`]: every watched certificate once, described from the chains the
//!   caller's sources hand in ([`inventory::InventoryBuilder`]);
//! - [`sources`]: the server's inventory sources in order (domains, certdirs, the default
//!   certificate, platform models, scan records) ([`sources::InventorySources`]);
//! - [`watch`]: which certificates entered `warning` or `expired` since the last look
//!   ([`watch::ExpiryWatch`]), each entry reported once;
//! - [`event`]: the expiry event that is logged, raised as an alert and posted to the
//!   webhook;
//! - [`watcher`]: the expiry watcher task (every `[monitor] interval_seconds` and on
//!   every change served), its webhook posts and the counters the metrics read;
//! - [`alerts`]: the alert board and its typed kinds ([`alerts::AlertKind`]): edge
//!   alerts drained from the hub, ACME failures, expiry events, webhook failures;
//! - [`holder`]: who holds a watched certificate, in parts (kind, name, domain,
//!   platform, service);
//! - [`metrics`]: the Prometheus metrics (OpenMetrics text) of a running server, with
//!   the labelled certificate series ([`certificate_metrics`]), the scanned endpoints'
//!   ([`scan_metrics`]), the listeners' handshake and request totals ([`edge_metrics`])
//!   and the build's details ([`build_info`]);
//! - [`scan`]: endpoint scans — the chain each `HOST:PORT[/SNI]` presents, judged for
//!   validity, hostname, expiry and lint findings — and the stored scan record.
//!
//! ```
//! use certfleet_monitor::expiry::ExpiryState;
//! use time::{Duration, OffsetDateTime};
//! let now = OffsetDateTime::now_utc();
//! assert_eq!(ExpiryState::at(now + Duration::days(3), now, 14), ExpiryState::Warning);
//! ```

pub mod agent_metrics;
pub mod alerts;
pub mod build_info;
pub mod certificate_metrics;
pub mod edge_metrics;
mod error;
pub mod event;
pub mod expiry;
pub mod holder;
pub mod inventory;
pub mod metrics;
pub mod metrics_text;
pub mod scan;
pub mod scan_metrics;
pub mod sources;
pub mod watch;
pub mod watcher;

pub use error::{MonitorError, Result};
