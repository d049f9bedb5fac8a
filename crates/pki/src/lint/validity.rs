//! Validity checks: expired, not yet valid, expiring within the warning period (every
//! certificate: an expired intermediate or root breaks everything under it). Lifetime
//! limits are judged in [`super::lifetime`].

use super::codes;
use super::{show_time, Cert, Finding, Severity};
use time::{Duration, OffsetDateTime};

/// `3 days`, `1 day`, or `5 hours` when under a day.
fn span(d: Duration) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if d.whole_days() >= 1 {
        plural(d.whole_days(), "day")
    } else if d.whole_hours() >= 1 {
        plural(d.whole_hours(), "hour")
    } else {
        plural(d.whole_minutes().max(0), "minute")
    }
}

/// The validity checks of one certificate, judged at `at`.
pub(crate) fn check(cert: &Cert<'_>, at: OffsetDateTime, warn_days: u32) -> Vec<Finding> {
    let validity = cert.x509.validity();
    let not_before = validity.not_before.to_datetime();
    let not_after = validity.not_after.to_datetime();
    let renew = if cert.is_ca && !cert.end_entity {
        "Renew this CA certificate (same key, new dates) or replace the CA, then redistribute it to every trust store and chain file that holds it; an expired CA certificate breaks every certificate under it."
    } else {
        "Renew it (`certfleet cert issue`, or a new CSR to your CA), install the new certificate with its key and chain, and reload every service using it."
    };
    let mut findings = Vec::new();
    if at < not_before {
        findings.push(Finding::new(
            codes::NOT_YET_VALID,
            Severity::Error,
            Some(cert.index),
            format!(
                "{} is not valid before {}, {} from now (judged at {}); peers refuse it until then",
                cert.label(),
                show_time(not_before),
                span(not_before - at),
                show_time(at)
            ),
            "Check the clocks of the machine that issued it and of the peers; if the dates are meant, install it only from its start date, else have it reissued with a start date in the past.",
        ));
    } else if at > not_after {
        findings.push(Finding::new(
            codes::EXPIRED,
            Severity::Error,
            Some(cert.index),
            format!(
                "{} expired on {}, {} ago (judged at {})",
                cert.label(),
                show_time(not_after),
                span(at - not_after),
                show_time(at)
            ),
            renew,
        ));
    } else if not_after - at <= Duration::days(i64::from(warn_days)) {
        findings.push(Finding::new(
            codes::EXPIRING_SOON,
            Severity::Warning,
            Some(cert.index),
            format!(
                "{} expires on {}, in {} (warning from {warn_days} days before expiry)",
                cert.label(),
                show_time(not_after),
                span(not_after - at)
            ),
            format!("Renew it before {}. {renew}", show_time(not_after)),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{codes_of, leaf_params, self_signed};
    use super::super::{lint, LintInput};
    use super::*;

    fn judged_at(offset_days: i64) -> Vec<(&'static str, Severity)> {
        let mut params = leaf_params("web.example.test");
        let start = time::macros::datetime!(2030-01-01 00:00 UTC);
        params.not_before = start;
        params.not_after = start + Duration::days(90);
        let mut input = LintInput::new(vec![self_signed(params)]);
        input.at = start + Duration::days(offset_days);
        codes_of(&lint(&input))
    }

    #[test]
    fn dates_are_judged_at_the_given_time() {
        assert_eq!(judged_at(-1), [(codes::NOT_YET_VALID, Severity::Error)]);
        assert_eq!(judged_at(10), []);
        assert_eq!(judged_at(80), [(codes::EXPIRING_SOON, Severity::Warning)]);
        assert_eq!(judged_at(91), [(codes::EXPIRED, Severity::Error)]);
    }

    #[test]
    fn messages_give_dates_and_days() {
        let mut params = leaf_params("web.example.test");
        let start = time::macros::datetime!(2020-01-01 00:00 UTC);
        params.not_before = start;
        params.not_after = start + Duration::days(500);
        let mut input = LintInput::new(vec![self_signed(params)]);
        input.at = start + Duration::days(510);
        let findings = lint(&input);
        let expired = findings.iter().find(|f| f.code == codes::EXPIRED).unwrap();
        assert!(
            expired
                .message
                .contains("2021-05-15 00:00:00 UTC, 10 days ago"),
            "{}",
            expired.message
        );
        assert!(codes_of(&findings).contains(&(codes::VALIDITY_TOO_LONG, Severity::Notice)));
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(Duration::days(1)), "1 day");
        assert_eq!(span(Duration::hours(5)), "5 hours");
        assert_eq!(span(Duration::minutes(-3)), "0 minutes");
    }
}
