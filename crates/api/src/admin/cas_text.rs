//! The answers about the server's CAs in words, as `certfleet ca ...` prints them
//! without `--json`: one line per CA, one CA's details with the days left and what it
//! issued, and what a signature or an issuance produced. Each function gives whole
//! lines, ending in a newline, so the caller prints them unchanged.

use super::audit::AuditRecordJson;
use super::cas::{CaJson, SignedJson};
use super::domains::DomainJson;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Whole days from `now` until the RFC 3339 moment `until` (negative once past), or
/// `None` when it does not parse.
pub fn days_left(until: &str, now: OffsetDateTime) -> Option<i64> {
    let until = OffsetDateTime::parse(until, &Rfc3339).ok()?;
    Some((until - now).whole_days())
}

fn days_text(until: &str, now: OffsetDateTime) -> String {
    match days_left(until, now) {
        Some(days) if days < 0 => format!("expired {} days ago", -days),
        Some(days) => format!("{days} days left"),
        None => "days left unknown".to_owned(),
    }
}

/// `ca list`: one line per CA, or how to make the first one.
pub fn cas_text(cas: &[CaJson], now: OffsetDateTime) -> String {
    if cas.is_empty() {
        return "no CAs yet (make one with `certfleet ca create NAME`)\n".to_owned();
    }
    cas.iter().map(|ca| ca.summary_text(now)).collect()
}

impl CaJson {
    /// One line of `ca list`: name, key, signing subject and expiry.
    pub fn summary_text(&self, now: OffsetDateTime) -> String {
        format!(
            "{:<20} {:<11} {}  (until {}, {})\n",
            self.name,
            self.key_algorithm,
            self.subject,
            self.not_after,
            days_text(&self.not_after, now)
        )
    }

    /// `ca show`: one field a line, then the certificates it signed and issued (audit
    /// records, newest first).
    pub fn details_text(&self, now: OffsetDateTime, issued: &[AuditRecordJson]) -> String {
        let mut text = format!("name:         {}\n", self.name);
        text += &format!("subject:      {}\n", self.subject);
        text += &format!("issuer:       {}\n", self.issuer);
        text += &format!("key:          {}\n", self.key_algorithm);
        text += &format!(
            "not after:    {} ({})\n",
            self.not_after,
            days_text(&self.not_after, now)
        );
        text += &format!("root SHA-1:   {}\n", self.root_sha1_thumbprint);
        if let Some(intermediate) = &self.intermediate_sha1_thumbprint {
            text += &format!("issuing SHA-1: {intermediate}\n");
        }
        let domains = if self.policy.allowed_domains.is_empty() {
            "any name".to_owned()
        } else {
            self.policy.allowed_domains.join(", ")
        };
        let days = self.policy.max_days.map_or_else(
            || "up to the CA's expiry".to_owned(),
            |d| format!("at most {d} days"),
        );
        text += &format!("policy:       {domains}; {days}\n");
        text += &format!("created:      {}\n", self.created_at);
        if issued.is_empty() {
            text += "issued:       nothing yet\n";
        } else {
            text += &format!(
                "issued:       {} certificate(s), newest first\n",
                issued.len()
            );
            for record in issued {
                text += &format!(
                    "  {}  {:<9} {}  (by {})\n",
                    record.at,
                    record.action.trim_start_matches("ca."),
                    record.detail.as_deref().unwrap_or("-"),
                    record.actor
                );
            }
        }
        text
    }

    /// The answer to making this CA.
    pub fn created_text(&self) -> String {
        format!(
            "created CA {} ({}, {}; root SHA-1 {}, until {})\n",
            self.name, self.subject, self.key_algorithm, self.root_sha1_thumbprint, self.not_after
        )
    }
}

impl SignedJson {
    /// The answer to signing a CSR: what was signed and where it was written.
    pub fn signed_text(&self, written: &str) -> String {
        format!(
            "signed {} (SHA-1 {}, until {}); certificate and chain written to {written}\n",
            self.subject, self.sha1_thumbprint, self.not_after
        )
    }
}

impl DomainJson {
    /// The answer to issuing this domain's certificate from a server CA.
    pub fn issued_text(&self, ca: &str) -> String {
        match &self.certificate {
            Some(cert) => format!(
                "issued {} for {} from CA {ca} (until {}); served now, renewed automatically\n",
                cert.sha1_thumbprint, self.name, cert.not_after
            ),
            None => format!("{}: the server stored no certificate\n", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::cas::PolicyJson;

    fn ca() -> CaJson {
        CaJson {
            name: "internal".into(),
            subject: "CN=Issuing".into(),
            issuer: "CN=Root".into(),
            not_after: "2027-01-11T00:00:00Z".into(),
            root_sha1_thumbprint: "AB".repeat(20),
            intermediate_sha1_thumbprint: None,
            key_algorithm: "ecdsa-p256".into(),
            policy: PolicyJson::default(),
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_ca_shows_its_days_left_and_what_it_issued() {
        let now = OffsetDateTime::parse("2027-01-01T00:00:00Z", &Rfc3339).unwrap();
        assert!(cas_text(&[ca()], now).contains("10 days left"));
        assert!(cas_text(&[], now).starts_with("no CAs yet"));
        let issued = AuditRecordJson {
            actor: "admin-token".into(),
            action: "ca.issue".into(),
            object: "ca internal".into(),
            detail: Some("domain shop.example.test (AB)".into()),
            at: "2026-12-01T00:00:00Z".into(),
        };
        let text = ca().details_text(now, &[issued]);
        assert!(text.contains("(10 days left)"), "{text}");
        assert!(text.contains("policy:       any name; up to the CA's expiry"));
        assert!(
            text.contains("issue     domain shop.example.test (AB)"),
            "{text}"
        );
        let later = OffsetDateTime::parse("2027-01-13T00:00:00Z", &Rfc3339).unwrap();
        assert!(ca().details_text(later, &[]).contains("expired 2 days ago"));
    }
}
