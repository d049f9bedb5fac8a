//! The two text formats `GET /metrics` speaks: OpenMetrics, which prometheus-client
//! writes and Prometheus asks for, and the older Prometheus text format (0.0.4), which
//! most other readers (`promtool check metrics`, a plain `curl`) expect. The server
//! answers OpenMetrics only to a client whose `Accept` names it, as the Prometheus
//! client libraries do.
//!
//! The two differ, for what certfleet writes, in three ways this module undoes:
//! OpenMetrics names a counter family without its `_total` suffix in `# HELP` and
//! `# TYPE`, it may have `# UNIT` lines, and it ends with `# EOF`.

/// The Prometheus text format's content type.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether an `Accept` header value asks for OpenMetrics.
pub fn wants_openmetrics(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
    })
}

/// `openmetrics` (as prometheus-client writes it) in the Prometheus text format.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match renamed {
            Some(line) => text.push_str(&line),
            None => text.push_str(line),
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENMETRICS: &str = "# HELP certfleet_edge_alerts Alerts raised.\n\
        # TYPE certfleet_edge_alerts counter\n\
        certfleet_edge_alerts_total{kind=\"expired\"} 2\n\
        # HELP certfleet_monitor_warn_seconds The warning window.\n\
        # TYPE certfleet_monitor_warn_seconds gauge\n\
        # UNIT certfleet_monitor_warn_seconds seconds\n\
        certfleet_monitor_warn_seconds 1209600\n\
        # EOF\n";

    #[test]
    fn counters_are_named_with_their_suffix_and_the_openmetrics_lines_go() {
        assert_eq!(
            to_prometheus_text(OPENMETRICS),
            "# HELP certfleet_edge_alerts_total Alerts raised.\n\
             # TYPE certfleet_edge_alerts_total counter\n\
             certfleet_edge_alerts_total{kind=\"expired\"} 2\n\
             # HELP certfleet_monitor_warn_seconds The warning window.\n\
             # TYPE certfleet_monitor_warn_seconds gauge\n\
             certfleet_monitor_warn_seconds 1209600\n"
        );
    }

    #[test]
    fn openmetrics_only_when_asked_for() {
        assert!(wants_openmetrics(
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        ));
        assert!(wants_openmetrics("Application/OpenMetrics-Text"));
        assert!(!wants_openmetrics("*/*"));
        assert!(!wants_openmetrics("text/plain"));
        assert!(!wants_openmetrics("application/openmetrics-text;q=0"));
        assert!(!wants_openmetrics(""));
    }
}
