//! certfleet-monitor: keeping watch over certificates.
//!
//! - [`expiry`]: the expiry state of a certificate (`ok`, `warning`, `expired`) against
//!   the warning window of `[monitor] warn_days`.
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
pub mod expiry;
pub mod scan;

pub use error::{MonitorError, Result};
