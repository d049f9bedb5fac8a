//! `verify`'s answer for people and for scripts: a [`VerifiedChain`] as the subjects of
//! its path (leaf first, numbered by depth) or a `{"valid": true, ...}` document, and a
//! [`VerifyFailure`] as `NOT VALID` with its reason or a `{"valid": false, ...}` document.

use super::{VerifiedChain, VerifyFailure};
use crate::inspect::{describe_certificate, rfc3339};
use serde_json::{json, Value};
use std::fmt::Write;
use time::OffsetDateTime;

impl VerifiedChain {
    /// Each certificate's subject, leaf first; `unparsable certificate` for one that
    /// cannot be described.
    pub fn subjects(&self) -> Vec<String> {
        let now = OffsetDateTime::now_utc();
        self.certificates
            .iter()
            .map(|der| {
                describe_certificate(der, now)
                    .map(|info| info.subject)
                    .unwrap_or_else(|_| "unparsable certificate".into())
            })
            .collect()
    }

    /// `{"valid": true, "chain": [subjects], "valid_until": RFC 3339}`.
    pub fn to_json(&self) -> Value {
        json!({
            "valid": true,
            "chain": self.subjects(),
            "valid_until": rfc3339(self.valid_until),
        })
    }

    /// `NAME: OK`, then one line per certificate of the path: its depth and subject.
    pub fn to_text(&self, name: &str) -> String {
        let mut text = format!("{name}: OK\n");
        for (depth, subject) in self.subjects().iter().enumerate() {
            // Writing to a String cannot fail.
            let _ = writeln!(text, "  {depth}: {subject}");
        }
        text
    }
}

impl VerifyFailure {
    /// `{"valid": false, "code": CODE, "reason": SENTENCE}`.
    pub fn to_json(&self) -> Value {
        json!({
            "valid": false,
            "code": self.code,
            "reason": self.reason,
        })
    }

    /// `NAME: NOT VALID: REASON`.
    pub fn to_text(&self, name: &str) -> String {
        format!("{name}: NOT VALID: {}\n", self.reason)
    }
}

#[cfg(test)]
mod tests {
    use crate::verify::{FailureCode, VerifiedChain, VerifyFailure};
    use time::OffsetDateTime;

    #[test]
    fn a_refusal_says_not_valid_with_its_reason() {
        let failure = VerifyFailure::new(FailureCode::NameMismatch, "the name is not covered");
        assert_eq!(
            failure.to_text("web.crt"),
            "web.crt: NOT VALID: the name is not covered\n"
        );
        assert_eq!(failure.to_json()["valid"], false);
        assert_eq!(failure.to_json()["reason"], "the name is not covered");
    }

    #[test]
    fn a_path_lists_each_depth() {
        let chain = VerifiedChain {
            certificates: vec![vec![0x30, 0x00].into()],
            valid_until: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            chain.to_text("x.crt"),
            "x.crt: OK\n  0: unparsable certificate\n"
        );
        assert_eq!(chain.to_json()["valid_until"], "1970-01-01T00:00:00Z");
    }
}
