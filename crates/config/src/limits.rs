//! `[limits]`: how long a client may take to send a request head (the TLS handshake
//! included), how long a connection may stay silent, and how many connections each
//! listener serves at once. The same limits apply to every listener (the HTTPS edge,
//! plain HTTP and admin), each listener counting its own connections.

use super::raw::RawLimits;
use anyhow::{bail, Result};
use std::time::Duration;

/// Default `header_timeout_seconds`.
pub(crate) const DEFAULT_HEADER_TIMEOUT_SECONDS: u64 = 10;
/// Default `idle_timeout_seconds`.
pub(crate) const DEFAULT_IDLE_TIMEOUT_SECONDS: u64 = 60;
/// Default `max_connections`.
pub(crate) const DEFAULT_MAX_CONNECTIONS: u64 = 10_000;

/// The longest time-out either key accepts: one day.
const MAX_TIMEOUT_SECONDS: u64 = 24 * 60 * 60;
/// The largest `max_connections` accepted.
const MAX_CONNECTIONS_CEILING: u64 = 1_000_000;

/// Time-outs and the connection cap of every listener, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The TLS handshake, and then each request head, must arrive within this.
    pub header_timeout: Duration,
    /// A connection with no traffic either way for this long is asked to close (a
    /// request in flight may still finish), and dropped after as long again.
    pub idle_timeout: Duration,
    /// At most this many open connections per listener; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECONDS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECONDS),
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
        }
    }
}

/// Checks `[limits]`, naming the key of a value out of range.
pub(crate) fn connection_limits(raw: &RawLimits) -> Result<ConnectionLimits> {
    let seconds = |value: Option<u64>, default: u64, key: &str| -> Result<Duration> {
        let value = value.unwrap_or(default);
        if !(1..=MAX_TIMEOUT_SECONDS).contains(&value) {
            bail!("[limits] {key}: {value} is not between 1 and {MAX_TIMEOUT_SECONDS}");
        }
        Ok(Duration::from_secs(value))
    };
    let max_connections = raw.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if !(1..=MAX_CONNECTIONS_CEILING).contains(&max_connections) {
        bail!(
            "[limits] max_connections: {max_connections} is not between 1 and {MAX_CONNECTIONS_CEILING}"
        );
    }
    Ok(ConnectionLimits {
        header_timeout: seconds(
            raw.header_timeout_seconds,
            DEFAULT_HEADER_TIMEOUT_SECONDS,
            "header_timeout_seconds",
        )?,
        idle_timeout: seconds(
            raw.idle_timeout_seconds,
            DEFAULT_IDLE_TIMEOUT_SECONDS,
            "idle_timeout_seconds",
        )?,
        // At most MAX_CONNECTIONS_CEILING, which fits every usize of 32 bits or more.
        max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let limits = connection_limits(&RawLimits::default()).unwrap();
        assert_eq!(limits, ConnectionLimits::default());
        assert_eq!(limits.header_timeout.as_secs(), 10);
        let raw = RawLimits {
            header_timeout_seconds: Some(2),
            idle_timeout_seconds: Some(5),
            max_connections: Some(3),
        };
        let limits = connection_limits(&raw).unwrap();
        assert_eq!(limits.max_connections, 3);
        assert_eq!(limits.idle_timeout.as_secs(), 5);
        for (raw, key) in [
            (
                RawLimits {
                    header_timeout_seconds: Some(0),
                    ..RawLimits::default()
                },
                "header_timeout_seconds",
            ),
            (
                RawLimits {
                    idle_timeout_seconds: Some(MAX_TIMEOUT_SECONDS + 1),
                    ..RawLimits::default()
                },
                "idle_timeout_seconds",
            ),
            (
                RawLimits {
                    max_connections: Some(0),
                    ..RawLimits::default()
                },
                "max_connections",
            ),
        ] {
            let err = connection_limits(&raw).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }
}
