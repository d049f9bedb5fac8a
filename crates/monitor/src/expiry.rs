//! The expiry state of one certificate: `expired` once notAfter has passed, `warning`
//! within the warning window (14 days by default, `[monitor] warn_days`),
//! else `ok`. One definition for `status`, metrics, alerts and `scan`.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// Where a certificate stands against its notAfter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpiryState {
    /// More than the warning window remains.
    Ok,
    /// Valid, but expires within the warning window.
    Warning,
    /// notAfter has passed.
    Expired,
}

impl ExpiryState {
    /// The state at `now` of a certificate valid until `not_after`, with a warning window
    /// of `warn_days` days.
    pub fn at(not_after: OffsetDateTime, now: OffsetDateTime, warn_days: u32) -> Self {
        if not_after < now {
            ExpiryState::Expired
        } else if not_after - now < Duration::days(i64::from(warn_days)) {
            ExpiryState::Warning
        } else {
            ExpiryState::Ok
        }
    }

    /// The state's name as the CLI and the API print it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryState::Ok => "ok",
            ExpiryState::Warning => "warning",
            ExpiryState::Expired => "expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_not_after_and_the_window() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        assert_eq!(
            ExpiryState::at(now - Duration::seconds(1), now, 14),
            ExpiryState::Expired
        );
        assert_eq!(ExpiryState::at(now, now, 14), ExpiryState::Warning);
        assert_eq!(
            ExpiryState::at(now + Duration::days(13), now, 14),
            ExpiryState::Warning
        );
        assert_eq!(
            ExpiryState::at(now + Duration::days(14), now, 14),
            ExpiryState::Ok
        );
        assert_eq!(
            ExpiryState::at(now + Duration::days(1), now, 0),
            ExpiryState::Ok
        );
        assert_eq!(ExpiryState::Warning.as_str(), "warning");
    }
}
