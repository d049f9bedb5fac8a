//! Time limits written in the model, such as `reload_timeout = "60s"`: a whole number
//! followed by `s`, `m` or `h` (a bare number is seconds), between one second and one hour.

use crate::error::Result;
use crate::model::{Locator, Text};
use std::time::Duration;

/// The reload time limit when the model sets none.
pub(super) const DEFAULT_RELOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest time limit accepted.
const LONGEST: Duration = Duration::from_secs(3600);

/// Parses `text` (`"90s"`, `"2m"`, `"1h"`, `"45"`), naming `key` and its line on error.
pub(super) fn time_limit(loc: &Locator, text: &Text, key: &str) -> Result<Duration> {
    parse(text.get_ref().trim()).ok_or_else(|| {
        loc.at(
            text,
            key,
            format!(
                "'{}' is not a time limit; write a whole number of seconds, minutes or hours such as \"60s\", \"2m\" or \"1h\" (1 s to 1 h)",
                text.get_ref()
            ),
        )
    })
}

fn parse(text: &str) -> Option<Duration> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let count: u64 = digits.parse().ok()?;
    let seconds = match unit.trim() {
        "s" => count,
        "m" => count.checked_mul(60)?,
        "h" => count.checked_mul(3600)?,
        _ => return None,
    };
    let limit = Duration::from_secs(seconds);
    (Duration::from_secs(1)..=LONGEST)
        .contains(&limit)
        .then_some(limit)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use std::time::Duration;

    #[test]
    fn seconds_minutes_and_hours_within_bounds() {
        assert_eq!(parse("60s"), Some(Duration::from_secs(60)));
        assert_eq!(parse("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse("45"), Some(Duration::from_secs(45)));
        for bad in [
            "",
            "0s",
            "2h",
            "1.5s",
            "s",
            "-3s",
            "10 days",
            "99999999999999999999h",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
