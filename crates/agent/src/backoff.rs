//! The delays between attempts when the server cannot be reached or fails: doubling from
//! one second up to a minute, each with random jitter so that many nodes do not retry in
//! step; back to the start after a success.

use std::time::Duration;

/// The first delay.
pub const FIRST: Duration = Duration::from_secs(1);
/// The longest delay.
pub const LONGEST: Duration = Duration::from_secs(60);

/// Exponential back-off with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: FIRST }
    }
}

impl Backoff {
    /// The delay before the next attempt: between half and all of the current step,
    /// which then doubles (up to [`LONGEST`]).
    pub fn next_delay(&mut self) -> Duration {
        let step = self.next;
        self.next = (step * 2).min(LONGEST);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=jitter_ms))
    }

    /// After a success: start again from [`FIRST`].
    pub fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_a_minute_with_jitter_and_reset() {
        let mut b = Backoff::default();
        let mut steps = Vec::new();
        for _ in 0..10 {
            steps.push(b.next_delay());
        }
        let limits = [1u64, 2, 4, 8, 16, 32, 60, 60, 60, 60];
        for (delay, limit) in steps.iter().zip(limits) {
            let limit = Duration::from_secs(limit);
            assert!(
                *delay >= limit / 2 && *delay <= limit,
                "{delay:?} vs {limit:?}"
            );
        }
        b.reset();
        assert!(b.next_delay() <= FIRST);
    }
}
