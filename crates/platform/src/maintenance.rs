//! Maintenance windows: when `certfleet agent` may replace a certificate a node still
//! serves validly (a renewal, a changed model, a new CA). A window is written
//! `"DAYS HH:MM-HH:MM"` in UTC:
//!
//! - DAYS is `daily`, a day (`mon` … `sun`), a range of days (`mon-fri`, `fri-mon`
//!   wrapping round the week) or a comma list of those (`tue,thu`, `mon-wed,sat`);
//! - the window starts at the first time on each of those days and ends at the second;
//!   an end at or before the start runs past midnight into the next day
//!   (`sat 22:00-02:00` ends on Sunday at 02:00), and `00:00-24:00` is the whole day.
//!
//! A first certificate, an expired one, one inside its warning window, and a renewal
//! asked for with `certfleet renew --now` do not wait for a window.

use std::fmt;
use time::{OffsetDateTime, Weekday};

/// The days of the week in model order, Monday first.
const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// Minutes in a day.
const DAY_MINUTES: u16 = 24 * 60;

/// One maintenance window, as written in the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceWindow {
    /// The days it starts on, Monday first.
    days: [bool; 7],
    /// Its start, in minutes after midnight UTC.
    start: u16,
    /// Its end, in minutes after midnight UTC; at or before `start`, on the next day.
    end: u16,
    /// The text it was read from.
    text: String,
}

impl fmt::Display for MaintenanceWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn day_index(name: &str) -> Result<usize, String> {
    DAYS.iter()
        .position(|(short, _)| name.eq_ignore_ascii_case(short))
        .ok_or_else(|| format!("'{name}' is not a day: use mon, tue, wed, thu, fri, sat or sun"))
}

fn minutes(text: &str) -> Result<u16, String> {
    let bad = || format!("'{text}' is not a time of day such as 02:30 (UTC)");
    let (hours, mins) = text.split_once(':').ok_or_else(bad)?;
    if hours.len() != 2 || mins.len() != 2 {
        return Err(bad());
    }
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let mins: u16 = mins.parse().map_err(|_| bad())?;
    match (hours, mins) {
        (24, 0) => Ok(DAY_MINUTES),
        (0..=23, 0..=59) => Ok(hours * 60 + mins),
        _ => Err(bad()),
    }
}

fn days(text: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    if text.eq_ignore_ascii_case("daily") {
        return Ok([true; 7]);
    }
    for part in text.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (day_index(first)?, day_index(last)?);
                let mut day = first;
                loop {
                    days[day] = true;
                    if day == last {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => days[day_index(part)?] = true,
        }
    }
    Ok(days)
}

impl MaintenanceWindow {
    /// Reads `"DAYS HH:MM-HH:MM"`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<MaintenanceWindow, String> {
        let shape = || {
            format!("'{text}' is not a maintenance window such as \"sat 01:00-05:00\" or \"mon-fri 22:00-02:00\" (days, then a UTC time span)")
        };
        let mut words = text.split_whitespace();
        let (Some(day_text), Some(span), None) = (words.next(), words.next(), words.next()) else {
            return Err(shape());
        };
        let (start, end) = span.split_once('-').ok_or_else(shape)?;
        let window = MaintenanceWindow {
            days: days(day_text)?,
            start: minutes(start)?,
            end: minutes(end)?,
            text: text.trim().to_owned(),
        };
        if window.start == DAY_MINUTES {
            return Err(format!("'{text}': a window cannot start at 24:00"));
        }
        Ok(window)
    }

    /// Whether `at` falls inside this window.
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        let at = at.to_offset(time::UtcOffset::UTC);
        let minute = u16::from(at.hour()) * 60 + u16::from(at.minute());
        let today = at.weekday().number_days_from_monday() as usize;
        let yesterday = (today + 6) % 7;
        if self.end > self.start {
            self.days[today] && self.start <= minute && minute < self.end
        } else {
            // Past midnight: from the start to the end of the day it starts on, then from
            // midnight to the end on the next day.
            (self.days[today] && minute >= self.start)
                || (self.days[yesterday] && minute < self.end)
        }
    }
}

/// Whether `at` is inside one of `windows`; with no windows, always.
pub fn open_at(windows: &[MaintenanceWindow], at: OffsetDateTime) -> bool {
    windows.is_empty() || windows.iter().any(|window| window.contains(at))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::macros::datetime;

    // 2026-12-05 is a Saturday.
    const SATURDAY: OffsetDateTime = datetime!(2026-12-05 00:00 UTC);

    fn at(days: i64, hour: i64, minute: i64) -> OffsetDateTime {
        SATURDAY
            + time::Duration::days(days)
            + time::Duration::hours(hour)
            + time::Duration::minutes(minute)
    }

    #[test]
    fn a_window_holds_its_days_and_hours_only() {
        let w = MaintenanceWindow::parse("sat 01:00-05:00").unwrap();
        assert!(!w.contains(at(0, 0, 59)));
        assert!(w.contains(at(0, 1, 0)));
        assert!(w.contains(at(0, 4, 59)));
        assert!(!w.contains(at(0, 5, 0)));
        assert!(!w.contains(at(1, 2, 0)), "Sunday");
        assert!(w.contains(at(7, 2, 0)), "the next Saturday");
        assert_eq!(w.to_string(), "sat 01:00-05:00");
    }

    #[test]
    fn a_window_past_midnight_ends_on_the_next_day() {
        let w = MaintenanceWindow::parse("fri 22:00-02:00").unwrap();
        assert!(w.contains(at(-1, 23, 0)), "Friday night");
        assert!(w.contains(at(0, 1, 59)), "Saturday early");
        assert!(!w.contains(at(0, 2, 0)));
        assert!(!w.contains(at(0, 23, 0)), "Saturday night is not Friday's");
    }

    #[test]
    fn ranges_lists_and_daily() {
        let weekdays = MaintenanceWindow::parse("mon-fri 00:00-24:00").unwrap();
        assert!(!weekdays.contains(at(0, 12, 0)), "Saturday");
        assert!(weekdays.contains(at(2, 12, 0)), "Monday");
        let weekend = MaintenanceWindow::parse("fri-sun 03:00-04:00").unwrap();
        assert!(weekend.contains(at(1, 3, 30)), "Sunday");
        assert!(!weekend.contains(at(2, 3, 30)), "Monday");
        let list = MaintenanceWindow::parse("Tue,thu-fri 10:00-11:00").unwrap();
        assert!(list.contains(at(3, 10, 15)), "Tuesday");
        assert!(!list.contains(at(4, 10, 15)), "Wednesday");
        assert!(list.contains(at(6, 10, 15)), "Friday");
        let daily = MaintenanceWindow::parse("daily 02:00-03:00").unwrap();
        assert!((0..7).all(|d| daily.contains(at(d, 2, 30))));
        assert!(open_at(&[], at(0, 12, 0)), "no windows: always");
        assert!(!open_at(&[daily], at(0, 12, 0)));
    }

    #[test]
    fn bad_windows_say_what_is_wrong() {
        for (text, says) in [
            ("sat", "not a maintenance window"),
            ("sat 01:00", "not a maintenance window"),
            ("sat 01:00-05:00 utc", "not a maintenance window"),
            ("sam 01:00-05:00", "'sam' is not a day"),
            ("sat 1:00-05:00", "'1:00' is not a time of day"),
            ("sat 01:00-25:00", "'25:00' is not a time of day"),
            ("sat 01:60-02:00", "'01:60' is not a time of day"),
            ("sat 24:00-02:00", "cannot start at 24:00"),
        ] {
            let err = MaintenanceWindow::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
