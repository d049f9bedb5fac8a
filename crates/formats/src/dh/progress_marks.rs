//! A safe-prime search told in OpenSSL's marks, as `certfleet dhparam --generate` shows
//! it: `.` for every 64th candidate tested, `+` when half of a pair is prime, `*` and a
//! line break when the prime is found; and the number of candidates tested.

use super::safe_prime::Event;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts the candidates tested and gives the mark to show for each event, if any.
#[derive(Debug, Default)]
pub struct ProgressMarks {
    tested: AtomicUsize,
}

impl ProgressMarks {
    /// The mark for `event`: `.` once per 64 candidates, `+`, or `*` and a line break.
    pub fn mark(&self, event: Event) -> Option<&'static str> {
        match event {
            Event::Candidate => {
                let before = self.tested.fetch_add(1, Ordering::Relaxed);
                (before % 64 == 63).then_some(".")
            }
            Event::HalfPrime => Some("+"),
            Event::Found => Some("*\n"),
        }
    }

    /// The candidates tested so far.
    pub fn tested(&self) -> usize {
        self.tested.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dot_per_64_candidates_then_plus_and_star() {
        let marks = ProgressMarks::default();
        let dots = (0..128)
            .filter_map(|_| marks.mark(Event::Candidate))
            .collect::<String>();
        assert_eq!(dots, "..");
        assert_eq!(marks.tested(), 128);
        assert_eq!(marks.mark(Event::HalfPrime), Some("+"));
        assert_eq!(marks.mark(Event::Found), Some("*\n"));
    }
}
