//! Day counts as sentences say them: `1 day`, `2 days`, `0 days`, for every place the
//! command line, the web UI, the log and the alerts write how long a certificate has left
//! or has been expired.

use std::fmt;

/// A number of days, written with its noun in the right number (`1 day`, `3 days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days(pub i64);

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.0.abs() == 1 { "day" } else { "days" };
        write!(f, "{} {noun}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Days;

    #[test]
    fn one_day_is_singular_and_every_other_count_plural() {
        assert_eq!(Days(1).to_string(), "1 day");
        assert_eq!(Days(-1).to_string(), "-1 day");
        assert_eq!(Days(0).to_string(), "0 days");
        assert_eq!(Days(2).to_string(), "2 days");
    }
}
