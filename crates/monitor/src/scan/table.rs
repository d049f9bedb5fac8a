//! `scan`'s text report: one line per target (state, days left, protocol, chain,
//! hostname, drift, thumbprint or error), then each target's problems and its lint
//! errors and warnings, then a one-line summary.

use super::ScanResult;
use certfleet_pki::lint::Severity;
use std::fmt::Write;

/// The table, the details and the summary, each line ending in a newline.
pub fn render(results: &[ScanResult]) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail, so the `fmt::Result`s below are ignored.
    let width = results
        .iter()
        .map(|r| r.target.len())
        .max()
        .unwrap_or(0)
        .max("TARGET".len());
    let _ = writeln!(
        text,
        "{:<width$}  {:<8} {:>5}  {:<8} {:<8} {:<8} {:<6} SHA-1 / ERROR",
        "TARGET", "STATE", "DAYS", "PROTO", "CHAIN", "HOST", "DRIFT"
    );
    for result in results {
        let _ = writeln!(text, "{}", row(result, width));
    }
    let mut troubled = 0;
    for result in results {
        let problems = result.problems();
        let lint: Vec<_> = result
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Notice)
            .collect();
        if problems.is_empty() && lint.is_empty() {
            continue;
        }
        if !problems.is_empty() {
            troubled += 1;
        }
        let _ = writeln!(text, "\n{}:", result.target);
        for problem in &problems {
            let _ = writeln!(text, "  problem: {problem}");
        }
        for finding in lint {
            let _ = writeln!(
                text,
                "  {} {}: {}",
                finding.severity, finding.code, finding.message
            );
        }
    }
    let _ = writeln!(
        text,
        "\n{} target(s): {} fine, {} with problems",
        results.len(),
        results.len() - troubled,
        troubled
    );
    text
}

/// One target's line of the table.
fn row(result: &ScanResult, width: usize) -> String {
    let flag = |value: Option<bool>, yes: &str, no: &str| match value {
        Some(true) => yes.to_owned(),
        Some(false) => no.to_owned(),
        None => "-".to_owned(),
    };
    let last = if result.reachable {
        result.sha1_thumbprint.clone().unwrap_or_else(|| "-".into())
    } else {
        format!("unreachable: {}", result.error.as_deref().unwrap_or("-"))
    };
    format!(
        "{:<width$}  {:<8} {:>5}  {:<8} {:<8} {:<8} {:<6} {}",
        result.target,
        result.state.map_or("-", |s| s.as_str()),
        result
            .days_remaining
            .map_or_else(|| "-".to_owned(), |d| d.to_string()),
        result.protocol.as_deref().unwrap_or("-"),
        flag(result.chain_valid, "valid", "INVALID"),
        flag(result.hostname_match, "match", "MISMATCH"),
        flag(result.drift, "YES", "no"),
        last,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_row_shows_the_reason() {
        let result =
            ScanResult::unreachable("127.0.0.1:9".into(), None, "connection refused".into());
        let line = row(&result, 12);
        assert!(line.starts_with("127.0.0.1:9 "), "{line}");
        assert!(line.ends_with("unreachable: connection refused"), "{line}");
    }

    #[test]
    fn the_report_ends_with_the_summary() {
        let results = [ScanResult::unreachable(
            "127.0.0.1:9".into(),
            None,
            "connection refused".into(),
        )];
        let text = render(&results);
        assert!(text.starts_with("TARGET       STATE"), "{text}");
        assert!(
            text.contains("\n127.0.0.1:9:\n  problem: unreachable: connection refused\n"),
            "{text}"
        );
        assert!(
            text.ends_with("\n1 target(s): 0 fine, 1 with problems\n"),
            "{text}"
        );
    }
}
