//! The dashboard's expiry timeline as server-drawn SVG, zoomed to the next
//! [`WINDOW_DAYS`] days: one row per managed certificate ending by then (the soonest
//! [`MAX_ROWS`]), a bar from today to its end (an expired one is a mark at the left
//! edge), marks for today and for the start of the warning window, and dated ticks.
//! Certificates ending later are counted, not drawn. Coordinates are computed here; the
//! template only places them. Colours come from the state's class.

use certfleet_pki::inspect::day_count::Days;
use time::{Duration, OffsetDateTime};

/// The drawing's width in SVG user units (it scales to the page's width).
pub const WIDTH: f64 = 800.0;
const MARGIN: f64 = 12.0;
const AXIS: f64 = 36.0;
const ROW: f64 = 30.0;
/// How far ahead the timeline looks.
pub const WINDOW_DAYS: i64 = 90;
/// Days before today the timeline starts, room for the expired.
const PAST_DAYS: i64 = 7;
/// The most rows drawn.
pub const MAX_ROWS: usize = 50;

/// One certificate to draw.
pub struct Entry {
    /// What it is (subject, and who uses it).
    pub label: String,
    /// The end of its validity.
    pub not_after: OffsetDateTime,
    /// `ok`, `warning` or `expired`.
    pub state: String,
    /// Days until the end (negative after it).
    pub days_remaining: i64,
}

/// A dated tick of the axis.
pub struct Tick {
    /// Its x.
    pub x: String,
    /// `YYYY-MM-DD`.
    pub label: String,
    /// `start`, `middle` or `end` (SVG text-anchor).
    pub anchor: &'static str,
}

/// One certificate's row.
pub struct Row {
    /// The row's label's baseline.
    pub text_y: String,
    /// The bar's y.
    pub bar_y: String,
    /// The bar's start.
    pub x_from: String,
    /// The bar's end (the certificate's end).
    pub x_to: String,
    /// The label.
    pub label: String,
    /// The tooltip and accessible name: label, end date and days left.
    pub title: String,
    /// CSS class: `state-ok`, `state-warning`, `state-expired`.
    pub class: String,
}

/// The laid-out timeline.
pub struct Timeline {
    /// The drawing's height.
    pub height: String,
    /// The axis' ticks.
    pub ticks: Vec<Tick>,
    /// Today's x.
    pub now_x: String,
    /// The warning window's start.
    pub warn_x: String,
    /// The date the warning window starts.
    pub warn_date: String,
    /// Where the axis' line and the marks' tops are.
    pub axis_y: String,
    /// Where the rows' labels start: right of today's mark when that is in the left
    /// half, so the marks do not cross the text.
    pub label_x: String,
    /// The rows, soonest end first.
    pub rows: Vec<Row>,
    /// The first and last dates shown.
    pub start: String,
    /// The last date shown.
    pub end: String,
    /// Certificates ending after the window.
    pub later: usize,
    /// Certificates in the window beyond [`MAX_ROWS`].
    pub hidden: usize,
}

fn date(at: OffsetDateTime) -> String {
    at.date().to_string()
}

fn coord(value: f64) -> String {
    format!("{value:.1}")
}

impl Timeline {
    /// Lays out `entries` (sorted here, soonest end first) around `now`, with the
    /// warning window starting `warn_days` before each end.
    pub fn build(mut entries: Vec<Entry>, now: OffsetDateTime, warn_days: i64) -> Timeline {
        entries.sort_by_key(|e| e.not_after);
        let warn_at = now + Duration::days(warn_days);
        let (start, end) = (
            now - Duration::days(PAST_DAYS),
            now + Duration::days(WINDOW_DAYS),
        );
        let later = entries.iter().filter(|e| e.not_after > end).count();
        entries.retain(|e| e.not_after <= end);
        let hidden = entries.len().saturating_sub(MAX_ROWS);
        entries.truncate(MAX_ROWS);
        let total = (end - start).as_seconds_f64();
        let x = |at: OffsetDateTime| {
            let at = at.clamp(start, end);
            MARGIN + (at - start).as_seconds_f64() / total * (WIDTH - 2.0 * MARGIN)
        };
        let ticks = [0.1, 0.3, 0.5, 0.7, 0.9]
            .iter()
            .enumerate()
            .map(|(i, fraction)| {
                let at = start + Duration::seconds_f64(total * fraction);
                Tick {
                    x: coord(x(at)),
                    label: date(at),
                    anchor: match i {
                        0 => "start",
                        4 => "end",
                        _ => "middle",
                    },
                }
            })
            .collect();
        let rows = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let top = AXIS + 8.0 + ROW * i as f64;
                let end_x = x(entry.not_after);
                let from_x = x(now).min(end_x);
                let days = if entry.days_remaining < 0 {
                    format!("expired {} ago", Days(-entry.days_remaining))
                } else {
                    format!("{} left", Days(entry.days_remaining))
                };
                Row {
                    text_y: coord(top + 10.0),
                    bar_y: coord(top + 20.0),
                    x_from: coord(from_x),
                    x_to: coord(end_x),
                    label: entry.label.clone(),
                    title: format!(
                        "{}: ends {} ({days}, {})",
                        entry.label,
                        date(entry.not_after),
                        entry.state
                    ),
                    class: format!("state-{}", entry.state),
                }
            })
            .collect::<Vec<_>>();
        Timeline {
            height: coord(AXIS + 16.0 + ROW * rows.len().max(1) as f64),
            ticks,
            now_x: coord(x(now)),
            warn_x: coord(x(warn_at)),
            warn_date: date(warn_at),
            axis_y: coord(AXIS - 8.0),
            label_x: coord(if x(now) < WIDTH / 2.0 {
                x(now).max(x(warn_at)) + 8.0
            } else {
                MARGIN + 2.0
            }),
            rows,
            start: date(start),
            end: date(end),
            later,
            hidden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_sorted_and_inside_the_drawing() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let entry = |days: i64, state: &str| Entry {
            label: format!("cert {days}"),
            not_after: now + Duration::days(days),
            state: state.into(),
            days_remaining: days,
        };
        let timeline = Timeline::build(
            vec![entry(400, "ok"), entry(-3, "expired"), entry(5, "warning")],
            now,
            14,
        );
        let labels: Vec<_> = timeline.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            ["cert -3", "cert 5"],
            "400 days is beyond the window"
        );
        assert_eq!(timeline.later, 1);
        for row in &timeline.rows {
            let (from, to): (f64, f64) = (row.x_from.parse().unwrap(), row.x_to.parse().unwrap());
            assert!(from <= to && from >= 0.0 && to <= WIDTH, "{from} {to}");
        }
        assert_eq!(timeline.rows[0].class, "state-expired");
        assert!(timeline.rows[0].title.contains("expired 3 days ago"));
        assert_eq!(timeline.ticks.len(), 5);
    }

    #[test]
    fn an_empty_timeline_still_has_an_axis() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let timeline = Timeline::build(Vec::new(), now, 14);
        assert!(timeline.rows.is_empty());
        assert_eq!(timeline.ticks.len(), 5);
    }
}
