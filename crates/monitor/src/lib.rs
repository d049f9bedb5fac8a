//! certfleet-monitor: keeping watch over certificates.
//!
//! - [`expiry`]: the expiry state of a certificate (`ok`, `warning`, `expired`) against
//!   the warning window of `[monitor] warn_days`.
//!
//! ```
//! use certfleet_monitor::expiry::ExpiryState;
//! use time::{Duration, OffsetDateTime};
//! let now = OffsetDateTime::now_utc();
//! assert_eq!(ExpiryState::at(now + Duration::days(3), now, 14), ExpiryState::Warning);
//! ```

pub mod expiry;
