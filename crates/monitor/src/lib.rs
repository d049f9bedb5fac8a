//! certfleet-monitor: keeping watch over certificates.
//!
//! - [`expiry`]: the expiry state of a certificate (`ok`, `warning`, `expired`) against
//!   the warning window of `[monitor] warn_days`;
//! - [`inventory`]: every watched certificate once, described from the chains the
//!   caller's sources hand in ([`inventory::InventoryBuilder`]);
//! - [`watch`]: which certificates entered `warning` or `expired` since the last look
//!   ([`watch::ExpiryWatch`]), each entry reported once;
//! - [`event`]: the expiry event that is logged, raised as an alert and posted to the
//!   webhook;
//! - [`metrics`]: the Prometheus metrics (OpenMetrics text) of a running server.
//! - [`scan`]: endpoint scans — the chain each `HOST:PORT[/SNI]` presents, judged for
//!   validity, hostname, expiry and lint findings — and the stored scan record.
//!
//! ```
//! use certfleet_monitor::expiry::ExpiryState;
//! use time::{Duration, OffsetDateTime};
//! let now = OffsetDateTime::now_utc();
//! assert_eq!(ExpiryState::at(now + Duration::days(3), now, 14), ExpiryState::Warning);
//! ```

mod error;
pub mod event;
pub mod expiry;
pub mod inventory;
pub mod metrics;
pub mod scan;
pub mod watch;

pub use error::{MonitorError, Result};
