//! Failed admin logins: a wrong admin token as a bearer token or in `POST /api/session`
//! (the UI's login). Each is logged at warn with the client's address (never what was
//! typed), at most one line a second with a count of those held back; and after
//! [`FREE_FAILURES`] failures in a row from one address, every further attempt from it
//! waits, twice as long each time up to [`LONGEST_PAUSE`], until a login from it
//! succeeds or it stays quiet for 15 minutes.
//!
//! Only different wrong secrets count: a script retrying one stale token is logged but
//! not slowed (it cannot get in by repeating itself, and slowing it would slow the
//! administrators working from the same host), whereas guessing means new values. The
//! last few wrong values of each address are kept as SHA-256 digests, never in clear.

use crate::log_limit::{held_back_note, LogLimit};
use aws_lc_rs::digest::{digest, SHA256};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The client's address, put into every admin request's extensions by the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Failures in a row an address may have before its attempts are slowed.
pub const FREE_FAILURES: u32 = 5;
/// The pause before the first slowed attempt; it doubles with each failure.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// The longest pause.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(8);
/// An address whose last failure is older than this starts afresh.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// At most this many addresses are remembered; beyond it the oldest are forgotten.
const MAX_ADDRESSES: usize = 4096;
/// At most one warning line per this period.
const WARNING_PERIOD: Duration = Duration::from_secs(1);
/// How many of an address's latest wrong secrets are recognised when repeated.
const REMEMBERED_SECRETS: usize = 8;

/// One address's failures in a row.
#[derive(Debug, Clone)]
struct Failures {
    /// Different wrong secrets in a row.
    count: u32,
    last: Instant,
    /// Digests of the latest wrong secrets, newest last.
    recent: VecDeque<[u8; 32]>,
}

/// The failed logins of the admin listener, by client address.
pub struct LoginThrottle {
    failures: Mutex<HashMap<IpAddr, Failures>>,
    warnings: LogLimit,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            failures: Mutex::new(HashMap::new()),
            warnings: LogLimit::new(WARNING_PERIOD),
        }
    }
}

impl LoginThrottle {
    /// How long an attempt from `client` waits before its credentials are looked at.
    pub fn pause_for(&self, client: Option<ClientAddr>) -> Duration {
        let Some(ClientAddr(addr)) = client else {
            return Duration::ZERO;
        };
        let failures = self.lock();
        match failures.get(&addr.ip()) {
            Some(failures) if failures.last.elapsed() < FORGET_AFTER => pause_after(failures.count),
            _ => Duration::ZERO,
        }
    }

    /// Waits [`LoginThrottle::pause_for`] `client`.
    pub async fn pause(&self, client: Option<ClientAddr>) {
        let pause = self.pause_for(client);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }

    /// Records a failed login from `client` by `means` (e.g. `bearer token`) with the
    /// wrong secret `presented`, and logs it (without the secret).
    pub fn failed(&self, client: Option<ClientAddr>, means: &str, presented: &[u8]) {
        let Some(ClientAddr(addr)) = client else {
            if let Some(held_back) = self.warnings.admit() {
                tracing::warn!(
                    "admin: failed login ({means}) from an unknown address{}",
                    held_back_note(held_back)
                );
            }
            return;
        };
        let now = Instant::now();
        let count = {
            let mut failures = self.lock();
            if failures.len() >= MAX_ADDRESSES {
                failures.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
                if failures.len() >= MAX_ADDRESSES {
                    failures.clear();
                }
            }
            let entry = failures.entry(addr.ip()).or_insert_with(|| Failures {
                count: 0,
                last: now,
                recent: VecDeque::new(),
            });
            if now.duration_since(entry.last) >= FORGET_AFTER {
                entry.count = 0;
                entry.recent.clear();
            }
            entry.last = now;
            let mut key = [0u8; 32];
            key.copy_from_slice(digest(&SHA256, presented).as_ref());
            if !entry.recent.contains(&key) {
                entry.count = entry.count.saturating_add(1);
                if entry.recent.len() >= REMEMBERED_SECRETS {
                    entry.recent.pop_front();
                }
                entry.recent.push_back(key);
            }
            entry.count
        };
        if let Some(held_back) = self.warnings.admit() {
            let slowed = pause_after(count);
            let slowed = if slowed.is_zero() {
                String::new()
            } else {
                format!("; its next attempt waits {} ms", slowed.as_millis())
            };
            tracing::warn!(
                "admin: failed login ({means}) from {}: {count} different wrong secrets in a row{slowed}{}",
                addr.ip(),
                held_back_note(held_back)
            );
        }
    }

    /// A login from `client` succeeded: its failures are forgotten.
    pub fn succeeded(&self, client: Option<ClientAddr>) {
        if let Some(ClientAddr(addr)) = client {
            self.lock().remove(&addr.ip());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        // Every change is a single map operation: a panicked holder leaves it usable.
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The pause before an attempt from an address with `count` failures in a row.
fn pause_after(count: u32) -> Duration {
    if count < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (count - FREE_FAILURES).min(16);
    (FIRST_PAUSE * 2u32.pow(doublings)).min(LONGEST_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(ip: &str) -> Option<ClientAddr> {
        Some(ClientAddr(SocketAddr::new(ip.parse().unwrap(), 50_000)))
    }

    #[test]
    fn attempts_slow_down_after_repeated_failures_per_address() {
        let throttle = LoginThrottle::default();
        let attacker = client("192.0.2.7");
        let mut guess = 0u32;
        let mut fail = |throttle: &LoginThrottle| {
            guess += 1;
            throttle.failed(attacker, "bearer token", &guess.to_be_bytes());
        };
        for _ in 0..FREE_FAILURES - 1 {
            fail(&throttle);
        }
        assert!(throttle.pause_for(attacker).is_zero());
        fail(&throttle);
        assert_eq!(throttle.pause_for(attacker), FIRST_PAUSE);
        fail(&throttle);
        assert_eq!(throttle.pause_for(attacker), FIRST_PAUSE * 2);
        for _ in 0..20 {
            fail(&throttle);
        }
        assert_eq!(throttle.pause_for(attacker), LONGEST_PAUSE);
        // Another address, or one without an address, is not slowed.
        assert!(throttle.pause_for(client("192.0.2.8")).is_zero());
        assert!(throttle.pause_for(None).is_zero());
        throttle.succeeded(attacker);
        assert!(throttle.pause_for(attacker).is_zero());
    }

    #[test]
    fn one_wrong_secret_repeated_is_not_slowed() {
        let throttle = LoginThrottle::default();
        let stale = client("192.0.2.9");
        for _ in 0..50 {
            throttle.failed(stale, "bearer token", b"an old token");
        }
        assert!(throttle.pause_for(stale).is_zero());
    }
}
