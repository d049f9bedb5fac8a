//! The renewal schedule: the one policy deciding when an ACME domain gets its next order,
//! and how long to wait after a failure.
//!
//! - A domain with no certificate is due at once.
//! - A certificate uploaded by hand (without the auto-issued mark) is never renewed.
//! - An automatically issued certificate is renewed when one third of its lifetime
//!   remains: [`renew_at`] is two thirds of the way from notBefore to notAfter (day 60 of
//!   90); `domain show` and `GET /api/status` report that moment ([`reported_renew_at`]).
//! - When the CA suggested a renewal window (ARI) that starts earlier, the window's start
//!   replaces that moment.
//! - The order itself starts after a jitter of up to 1/50 of the lifetime (at most an
//!   hour) taken from the certificate's SHA-1 thumbprint: stable from one look to the
//!   next (the moment does not move while the loop waits for it), yet spread across a
//!   fleet issued at once.
//! - After failures nothing starts before the progress's `next_attempt_unix`: 5 s, 10 s,
//!   20 s, ... up to an hour after the last failure, plus up to 10% random jitter
//!   ([`backoff`]).
//!
//! [`next_order_at`] combines these into the moment the renewal loop compares with now.

use crate::state::AcmeProgress;
use certfleet_edge::certificate::CertificateSummary;
use std::time::Duration;

/// First wait after a failure.
const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// Longest wait after failures.
const BACKOFF_CAP: Duration = Duration::from_secs(3600);
/// Longest order jitter, and its share of the lifetime (1/50).
const JITTER_CAP_SECONDS: i64 = 3600;
const JITTER_LIFETIME_DIVISOR: i64 = 50;

/// Two thirds into the validity period, in Unix seconds.
pub fn renew_at(not_before: i64, not_after: i64) -> i64 {
    not_before + (not_after - not_before).max(0) * 2 / 3
}

/// The renewal moment (Unix seconds) of an automatically issued certificate, as
/// `domain show` and `status` report it: two thirds into the lifetime. `None` for a
/// certificate uploaded by hand, which is never renewed.
pub fn reported_renew_at(summary: &CertificateSummary) -> Option<i64> {
    summary
        .auto_issued
        .then(|| renew_at(summary.not_before_unix, summary.not_after_unix))
}

/// When an order should start for a domain serving `certificate` (`None`: never, it is
/// managed by hand), given its stored progress (back-off and the CA's renewal window).
pub fn next_order_at(
    certificate: Option<&CertificateSummary>,
    progress: &AcmeProgress,
) -> Option<i64> {
    let due = match certificate {
        None => 0,
        Some(summary) if !summary.auto_issued => return None,
        Some(summary) => {
            let planned = renew_at(summary.not_before_unix, summary.not_after_unix);
            earlier_window_start(planned, progress.renewal_window) + stable_jitter(summary)
        }
    };
    Some(due.max(progress.next_attempt_unix.unwrap_or(0)))
}

/// The start of the CA's renewal window when it comes before `planned`, else `planned`.
fn earlier_window_start(planned: i64, window: Option<(i64, i64)>) -> i64 {
    match window {
        Some((start, _)) if start < planned => start,
        _ => planned,
    }
}

/// Up to 1/50 of the lifetime (at most an hour), from the thumbprint's first 8 hex digits.
fn stable_jitter(summary: &CertificateSummary) -> i64 {
    let max = ((summary.not_after_unix - summary.not_before_unix) / JITTER_LIFETIME_DIVISOR)
        .clamp(0, JITTER_CAP_SECONDS);
    let seed =
        u64::from_str_radix(summary.sha1_thumbprint.get(..8).unwrap_or("0"), 16).unwrap_or(0);
    (seed % (max as u64 + 1)) as i64
}

/// How long to wait before the next attempt after `failures` consecutive failures:
/// 5 s doubling up to an hour, plus up to 10% random jitter.
pub fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let base = BACKOFF_BASE
        .saturating_mul(1u32 << exponent)
        .min(BACKOFF_CAP);
    let jitter_ms = random_below(base.as_millis() as u64 / 10 + 1);
    base + Duration::from_millis(jitter_ms)
}

/// A uniformly random number below `bound` (0 when `bound` is 0).
fn random_below(bound: u64) -> u64 {
    if bound <= 1 {
        return 0;
    }
    let mut bytes = [0u8; 8];
    // Jitter only: without randomness the back-off is merely less spread out.
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0;
    }
    u64::from_le_bytes(bytes) % bound
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn summary(not_before: i64, not_after: i64, auto_issued: bool) -> CertificateSummary {
        CertificateSummary {
            sha1_thumbprint: "00000007AB".into(),
            not_after: String::new(),
            not_after_unix: not_after,
            not_before_unix: not_before,
            sans: Vec::new(),
            auto_issued,
        }
    }

    #[test]
    fn renewal_is_two_thirds_into_the_lifetime() {
        let day = 86_400;
        assert_eq!(renew_at(0, 90 * day), 60 * day);
        assert_eq!(renew_at(1_000, 1_000 + 300), 1_200);
    }

    #[test]
    fn missing_certificates_are_due_at_once_and_manual_ones_never() {
        let progress = AcmeProgress::default();
        assert_eq!(next_order_at(None, &progress), Some(0));
        assert_eq!(
            next_order_at(Some(&summary(0, 900, false)), &progress),
            None
        );
    }

    #[test]
    fn automatic_certificates_renew_two_thirds_in_with_a_small_jitter() {
        let progress = AcmeProgress::default();
        let cert = summary(1_000, 1_000 + 90 * 86_400, true);
        let at = next_order_at(Some(&cert), &progress).unwrap();
        let planned = 1_000 + 60 * 86_400;
        assert!((planned..=planned + 3600).contains(&at), "{at}");
        assert_eq!(reported_renew_at(&cert), Some(planned));
        assert_eq!(reported_renew_at(&summary(0, 9, false)), None);
        // The same certificate gives the same moment on every tick.
        assert_eq!(next_order_at(Some(&cert), &progress), Some(at));
    }

    #[test]
    fn back_off_and_renewal_windows_move_the_moment() {
        let cert = summary(0, 300, true);
        let waiting = AcmeProgress {
            next_attempt_unix: Some(5_000),
            ..AcmeProgress::default()
        };
        assert_eq!(next_order_at(Some(&cert), &waiting), Some(5_000));
        assert_eq!(next_order_at(None, &waiting), Some(5_000));
        let early = AcmeProgress {
            renewal_window: Some((100, 150)),
            ..AcmeProgress::default()
        };
        let at = next_order_at(Some(&cert), &early).unwrap();
        assert!((100..=106).contains(&at), "{at}");
        // A window starting after the planned moment changes nothing.
        let late = AcmeProgress {
            renewal_window: Some((250, 280)),
            ..AcmeProgress::default()
        };
        let at = next_order_at(Some(&cert), &late).unwrap();
        assert!((200..=206).contains(&at), "{at}");
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let secs = |n| backoff(n).as_secs_f64();
        assert!((5.0..=5.5).contains(&secs(1)));
        assert!((10.0..=11.0).contains(&secs(2)));
        assert!((40.0..=44.0).contains(&secs(4)));
        assert!((3600.0..=3960.0).contains(&secs(30)));
    }
}
