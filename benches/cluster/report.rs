//! The tables the bench prints: milliseconds, medians and percentiles.

use super::*;

/// Milliseconds of `d`.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Milliseconds from `earlier` to `later`, negative when `later` came first.
pub(crate) fn signed_ms(later: Instant, earlier: Instant) -> f64 {
    match later.checked_duration_since(earlier) {
        Some(d) => ms(d),
        None => -ms(earlier - later),
    }
}

/// The median of `samples` (sorting them).
pub(crate) fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// The head of a table of [`row`]s.
pub(crate) fn header(title: &str) {
    println!(
        "\n{title:<40} {:>7} {:>10} {:>8} {:>8} {:>8}",
        "samples", "median ms", "p90 ms", "p99 ms", "max ms"
    );
}

/// One row of a table: count, median, 90th and 99th percentiles (nearest rank) and maximum, in
/// milliseconds; returns the median.
pub(crate) fn row(label: &str, samples: &mut [f64]) -> f64 {
    let mid = median(samples);
    let n = samples.len();
    let p90 = samples[(n * 9).div_ceil(10).max(1) - 1];
    let p99 = samples[(n * 99).div_ceil(100).max(1) - 1];
    let max = samples[n - 1];
    println!("{label:<40} {n:>7} {mid:>10.2} {p90:>8.2} {p99:>8.2} {max:>8.2}");
    mid
}
