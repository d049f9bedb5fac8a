//! The status answer in words, as `certfleet status` prints it without `--json`: one
//! line per managed certificate under a header, then one line per domain renewed
//! automatically, by ACME or by one of the server's CAs, with its failures when it has
//! some.

use super::status::StatusJson;

/// The text, or `-` when there is none.
fn or_dash(text: &Option<String>) -> &str {
    text.as_deref().unwrap_or("-")
}

/// One line about an automatic renewal: when it is due, or its failures.
fn renewal_line(
    what: &str,
    failures: u32,
    renew_at: &Option<String>,
    last_error: &Option<String>,
    next_attempt: &Option<String>,
) -> String {
    if failures == 0 {
        format!("{what}: ok, renews at {}\n", or_dash(renew_at))
    } else {
        format!(
            "{what}: {failures} failed attempt(s), last: {}; next attempt at {}\n",
            or_dash(last_error),
            or_dash(next_attempt)
        )
    }
}

impl StatusJson {
    /// The certificate table and the automatic renewals, whole lines.
    pub fn to_text(&self) -> String {
        let mut text = "STATE    DAYS  NOT AFTER             SHA-1                                     USED BY / SUBJECT\n".to_owned();
        for cert in &self.certificates {
            text += &format!(
                "{:<8} {:>5}  {:<21} {:<41} {} / {}\n",
                cert.state.as_str(),
                cert.days_remaining,
                cert.not_after,
                cert.sha1_thumbprint,
                cert.used_by,
                cert.subject,
            );
        }
        for acme in &self.acme {
            text += &renewal_line(
                &format!("ACME {}", acme.domain),
                acme.failures,
                &acme.renew_at,
                &acme.last_error,
                &acme.next_attempt,
            );
        }
        for renewal in &self.ca_renewals {
            text += &renewal_line(
                &format!("CA {} renews {} (automatic)", renewal.ca, renewal.domain),
                renewal.failures,
                &renewal.renew_at,
                &renewal.last_error,
                &renewal.next_attempt,
            );
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::super::status::{AlertCountsJson, CaRenewalJson, StatusJson};

    #[test]
    fn renewals_from_a_server_ca_are_shown_as_automatic() {
        let status = StatusJson {
            certificates: Vec::new(),
            acme: Vec::new(),
            ca_renewals: vec![CaRenewalJson {
                domain: "shop.example.test".into(),
                ca: "internal".into(),
                renew_at: Some("2027-01-01T00:00:00Z".into()),
                failures: 0,
                last_error: None,
                next_attempt: None,
                last_success: None,
            }],
            alerts: AlertCountsJson::default(),
            warn_days: Some(14),
        };
        let text = status.to_text();
        assert!(text.starts_with("STATE "), "{text}");
        assert!(text.ends_with(
            "CA internal renews shop.example.test (automatic): ok, renews at 2027-01-01T00:00:00Z\n"
        ));
    }
}
