//! When to renew, and how long to wait after a failure.
//!
//! - A certificate is renewed when one third of its lifetime remains: `renew_at` is two
//!   thirds of the way from notBefore to notAfter (day 60 of 90). The attempt itself
//!   starts after a jitter of up to 1/50 of the lifetime (at most an hour), so that a
//!   fleet issued at once does not renew at once.
//! - When the CA publishes renewal information (ARI) with a window starting earlier, a
//!   random moment in that window is used instead.
//! - After failures the next attempt waits 5 s, 10 s, 20 s, ... up to an hour, plus up to
//!   10% jitter.

use std::time::Duration;

/// First wait after a failure.
const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// Longest wait after failures.
const BACKOFF_CAP: Duration = Duration::from_secs(3600);

/// Two thirds into the validity period, in Unix seconds.
pub fn renew_at(not_before: i64, not_after: i64) -> i64 {
    not_before + (not_after - not_before).max(0) * 2 / 3
}

/// A random delay added to `renew_at` for the attempt: up to 1/50 of the lifetime, at most
/// an hour.
pub fn renewal_jitter(not_before: i64, not_after: i64) -> i64 {
    let max = ((not_after - not_before) / 50).clamp(0, 3600);
    random_below(max as u64 + 1) as i64
}

/// The moment to renew given the CA's suggested window (ARI), when it starts earlier.
pub fn with_renewal_window(renew_at: i64, window: Option<(i64, i64)>) -> i64 {
    match window {
        Some((start, end)) if start < renew_at && end >= start => {
            start + random_below((end - start) as u64 + 1) as i64
        }
        _ => renew_at,
    }
}

/// How long to wait before the next attempt after `failures` consecutive failures.
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
    // Jitter only: without randomness the schedule is merely less spread out.
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0;
    }
    u64::from_le_bytes(bytes) % bound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_two_thirds_into_the_lifetime() {
        let day = 86_400;
        assert_eq!(renew_at(0, 90 * day), 60 * day);
        assert_eq!(renew_at(1_000, 1_000 + 300), 1_200);
        for _ in 0..100 {
            let jitter = renewal_jitter(0, 90 * day);
            assert!((0..=3600).contains(&jitter));
            assert!((0..=6).contains(&renewal_jitter(0, 300)));
        }
    }

    #[test]
    fn an_earlier_ari_window_wins() {
        assert_eq!(with_renewal_window(1_000, None), 1_000);
        assert_eq!(with_renewal_window(1_000, Some((2_000, 3_000))), 1_000);
        for _ in 0..100 {
            let at = with_renewal_window(1_000, Some((500, 600)));
            assert!((500..=600).contains(&at));
        }
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
