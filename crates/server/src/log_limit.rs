//! A log line that may come in floods (accept failures, failed logins) is written at
//! most once per period; the lines held back are counted and the count goes into the
//! next line written, so nothing is lost from view but the log stays readable.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most one line per `period`.
#[derive(Debug)]
pub struct LogLimit {
    period: Duration,
    state: Mutex<LimitState>,
}

#[derive(Debug, Default)]
struct LimitState {
    last_written: Option<Instant>,
    held_back: u64,
}

impl LogLimit {
    /// A limit of one line per `period`.
    pub fn new(period: Duration) -> LogLimit {
        LogLimit {
            period,
            state: Mutex::new(LimitState::default()),
        }
    }

    /// `Some(lines held back since the last one written)` when a line may be written
    /// now; `None` when this one is to be held back (and counted).
    pub fn admit(&self) -> Option<u64> {
        let now = Instant::now();
        // Every change is one assignment: a panicked holder leaves a usable state.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let due = state
            .last_written
            .is_none_or(|last| now.duration_since(last) >= self.period);
        if due {
            state.last_written = Some(now);
            Some(std::mem::take(&mut state.held_back))
        } else {
            state.held_back += 1;
            None
        }
    }
}

/// `" (N more like it held back)"`, or nothing when none were.
pub fn held_back_note(held_back: u64) -> String {
    if held_back == 0 {
        String::new()
    } else {
        format!(" ({held_back} more like it held back)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_period_with_the_count_of_the_rest() {
        let limit = LogLimit::new(Duration::from_millis(200));
        assert_eq!(limit.admit(), Some(0));
        assert_eq!(limit.admit(), None);
        assert_eq!(limit.admit(), None);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(limit.admit(), Some(2));
        assert_eq!(held_back_note(2), " (2 more like it held back)");
        assert_eq!(held_back_note(0), "");
    }
}
