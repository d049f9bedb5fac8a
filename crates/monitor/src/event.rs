//! The expiry event: what the log line, the alert board and the webhook say when a
//! certificate enters `warning` or `expired`.
//!
//! The webhook receives [`ExpiryEvent`] as a JSON object:
//!
//! ```json
//! {"event": "certificate_expiry", "state": "warning", "previous_state": "ok",
//!  "subject": "CN=shop.example.com", "issuer": "CN=Example Issuing",
//!  "sha1_thumbprint": "3F2A...", "not_after": "2026-12-06T11:00:00Z",
//!  "days_remaining": 9, "used_by": "domain shop.example.com",
//!  "domain": "shop.example.com", "role": "leaf"}
//! ```
//!
//! `previous_state` is null when the certificate was not known before (the first look
//! after start, or a certificate just added). Only public facts of the certificate are
//! carried: never key material.

use crate::alerts::AlertKind;
use crate::expiry::ExpiryState;
use crate::inventory::ChainRole;
use crate::watch::Transition;
use certfleet_pki::inspect::day_count::Days;
use serde::Serialize;

/// The `event` field's value.
pub const EXPIRY_EVENT: &str = "certificate_expiry";

/// A certificate entered `warning` or `expired`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiryEvent {
    /// Always [`EXPIRY_EVENT`].
    pub event: &'static str,
    /// The state entered: `warning` or `expired`.
    pub state: ExpiryState,
    /// The state before, or null when the certificate was not known before.
    pub previous_state: Option<ExpiryState>,
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// SHA-1 thumbprint, 40 upper-case hex digits.
    pub sha1_thumbprint: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days until `not_after` (negative once expired).
    pub days_remaining: i64,
    /// What uses it (`domain NAME`, `certdir ROLE`, `default`).
    pub used_by: String,
    /// The domain, when a domain's chain holds it.
    pub domain: Option<String>,
    /// `leaf`, `intermediate` or `root`.
    pub role: ChainRole,
}

impl ExpiryEvent {
    /// The event of a transition.
    pub fn from_transition(transition: &Transition<'_>) -> Self {
        let entry = transition.entry;
        ExpiryEvent {
            event: EXPIRY_EVENT,
            state: entry.state,
            previous_state: transition.previous,
            subject: entry.subject.clone(),
            issuer: entry.issuer.clone(),
            sha1_thumbprint: entry.sha1_thumbprint.clone(),
            not_after: entry.not_after.clone(),
            days_remaining: entry.days_remaining,
            used_by: entry.used_by.clone(),
            domain: entry.domain.clone(),
            role: entry.role,
        }
    }

    /// The alert kind: `certificate_warning` or `certificate_expired`.
    pub fn alert_kind(&self) -> AlertKind {
        match self.state {
            ExpiryState::Expired => AlertKind::CertificateExpired,
            _ => AlertKind::CertificateWarning,
        }
    }

    /// One sentence for the log and the alert board.
    pub fn message(&self) -> String {
        let when = match self.state {
            ExpiryState::Expired => format!(
                "expired at {} ({} ago)",
                self.not_after,
                Days(-self.days_remaining)
            ),
            _ => format!(
                "expires at {} (in {})",
                self.not_after,
                Days(self.days_remaining)
            ),
        };
        format!(
            "the {} certificate {} used by {} [SHA-1 {}] entered {}: {when}",
            self.role.as_str(),
            one_line(&self.subject),
            one_line(&self.used_by),
            self.sha1_thumbprint,
            self.state.as_str(),
        )
    }

    /// The webhook's JSON body.
    pub fn to_json(&self) -> String {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// `text` with control characters escaped, so that a subject cannot forge log lines.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::inventory::InventoryEntry;

    #[test]
    fn the_payload_names_the_certificate_and_both_states() {
        let entry = InventoryEntry {
            subject: "CN=shop.example.test".into(),
            issuer: "CN=Example Issuing".into(),
            domain: Some("shop.example.test".into()),
            used_by: "domain shop.example.test".into(),
            role: ChainRole::Leaf,
            sha1_thumbprint: "AB".repeat(20),
            not_after: "2026-12-06T11:00:00Z".into(),
            not_after_unix: 1_796_554_800,
            days_remaining: 9,
            state: ExpiryState::Warning,
            detail: Default::default(),
        };
        let event = ExpiryEvent::from_transition(&Transition {
            entry: &entry,
            previous: Some(ExpiryState::Ok),
        });
        let json: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "event": "certificate_expiry",
                "state": "warning",
                "previous_state": "ok",
                "subject": "CN=shop.example.test",
                "issuer": "CN=Example Issuing",
                "sha1_thumbprint": "AB".repeat(20),
                "not_after": "2026-12-06T11:00:00Z",
                "days_remaining": 9,
                "used_by": "domain shop.example.test",
                "domain": "shop.example.test",
                "role": "leaf",
            })
        );
        assert_eq!(event.alert_kind().as_str(), "certificate_warning");
        let message = event.message();
        assert!(message.contains("entered warning"), "{message}");
        assert!(message.contains("in 9 days"), "{message}");

        let first_look = ExpiryEvent::from_transition(&Transition {
            entry: &InventoryEntry {
                state: ExpiryState::Expired,
                days_remaining: -3,
                domain: None,
                ..entry.clone()
            },
            previous: None,
        });
        let json: serde_json::Value = serde_json::from_str(&first_look.to_json()).unwrap();
        assert!(json["previous_state"].is_null());
        assert!(json["domain"].is_null());
        assert_eq!(json["state"], "expired");
        assert_eq!(first_look.alert_kind().as_str(), "certificate_expired");
        assert!(first_look.message().contains("3 days ago"));

        let forged = ExpiryEvent {
            subject: "CN=x\nALERT forged: y".into(),
            ..event
        };
        assert!(!forged.message().contains('\n'), "{}", forged.message());
        assert!(
            forged.message().contains("CN=x\\nALERT"),
            "{}",
            forged.message()
        );
    }
}
