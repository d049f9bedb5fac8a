//! Which ACME domains need an order now.
//!
//! A domain with ACME on (and a contact address) is due when it has no certificate, or
//! when its certificate was issued automatically and its renewal moment has come: two
//! thirds into the lifetime, or earlier inside the CA's renewal window, plus a jitter
//! derived from the certificate's thumbprint (stable between ticks, spread across a
//! fleet). A manually uploaded certificate is never renewed. A domain in back-off waits
//! until its next attempt.

use certfleet_acme::schedule::{renew_at, with_renewal_window};
use certfleet_acme::state::AcmeProgress;
use certfleet_edge::certificate::CertificateSummary;

/// The renewal moment (Unix seconds) of an automatically issued certificate, as
/// `domain show` reports it: two thirds into the lifetime.
pub fn reported_renew_at(summary: &CertificateSummary) -> Option<i64> {
    summary
        .auto_issued
        .then(|| renew_at(summary.not_before_unix, summary.not_after_unix))
}

/// When an order should start for a domain with this certificate (None: never, it is
/// managed by hand), given its progress.
pub fn next_order_at(
    certificate: Option<&CertificateSummary>,
    progress: &AcmeProgress,
) -> Option<i64> {
    let due = match certificate {
        None => 0,
        Some(summary) if !summary.auto_issued => return None,
        Some(summary) => {
            let planned = renew_at(summary.not_before_unix, summary.not_after_unix);
            let moment = with_planned_window(planned, progress.renewal_window);
            moment + stable_jitter(summary)
        }
    };
    Some(due.max(progress.next_attempt_unix.unwrap_or(0)))
}

fn with_planned_window(planned: i64, window: Option<(i64, i64)>) -> i64 {
    match window {
        // The window's own start: the random point inside it would move every tick.
        Some((start, _)) if start < planned => start,
        _ => with_renewal_window(planned, None),
    }
}

/// Up to 1/50 of the lifetime (at most an hour), from the thumbprint's first bytes.
fn stable_jitter(summary: &CertificateSummary) -> i64 {
    let max = ((summary.not_after_unix - summary.not_before_unix) / 50).clamp(0, 3600);
    let seed =
        u64::from_str_radix(summary.sha1_thumbprint.get(..8).unwrap_or("0"), 16).unwrap_or(0);
    (seed % (max as u64 + 1)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(not_before: i64, not_after: i64, auto_issued: bool) -> CertificateSummary {
        CertificateSummary {
            sha1_thumbprint: "00000007AB".into(),
            not_after: String::new(),
            not_after_unix: not_after,
            not_before_unix: not_before,
            sans: Vec::new(),
            auto_issued,
        }
    }

    #[test]
    fn missing_certificates_are_due_at_once_and_manual_ones_never() {
        let progress = AcmeProgress::default();
        assert_eq!(next_order_at(None, &progress), Some(0));
        assert_eq!(
            next_order_at(Some(&summary(0, 900, false)), &progress),
            None
        );
    }

    #[test]
    fn automatic_certificates_renew_two_thirds_in_with_a_small_jitter() {
        let progress = AcmeProgress::default();
        let cert = summary(1_000, 1_000 + 90 * 86_400, true);
        let at = next_order_at(Some(&cert), &progress).unwrap();
        let planned = 1_000 + 60 * 86_400;
        assert!((planned..=planned + 3600).contains(&at), "{at}");
        assert_eq!(reported_renew_at(&cert), Some(planned));
        assert_eq!(reported_renew_at(&summary(0, 9, false)), None);
        // The same certificate gives the same moment on every tick.
        assert_eq!(next_order_at(Some(&cert), &progress), Some(at));
    }

    #[test]
    fn back_off_and_renewal_windows_move_the_moment() {
        let cert = summary(0, 300, true);
        let waiting = AcmeProgress {
            next_attempt_unix: Some(5_000),
            ..AcmeProgress::default()
        };
        assert_eq!(next_order_at(Some(&cert), &waiting), Some(5_000));
        assert_eq!(next_order_at(None, &waiting), Some(5_000));
        let early = AcmeProgress {
            renewal_window: Some((100, 150)),
            ..AcmeProgress::default()
        };
        let at = next_order_at(Some(&cert), &early).unwrap();
        assert!((100..=106).contains(&at), "{at}");
    }
}
