//! `lint`'s answer for one file: `{"file": ..., "findings": [...]}` for scripts, and for
//! people either `no findings` or each finding on a line with its fix below it.

use super::Finding;
use serde::Serialize;
use std::fmt::Write;

/// The findings of one file, named as the user gave it.
#[derive(Debug, Serialize)]
pub struct LintReport<'a> {
    /// The file's name.
    pub file: &'a str,
    /// What [`super::lint`] found.
    pub findings: &'a [Finding],
}

impl LintReport<'_> {
    /// `FILE: no findings`, or `FILE: SEVERITY [CODE] MESSAGE` then `    fix: HINT` for
    /// each finding.
    pub fn to_text(&self) -> String {
        if self.findings.is_empty() {
            return format!("{}: no findings\n", self.file);
        }
        let mut text = String::new();
        for finding in self.findings {
            // Writing to a String cannot fail.
            let _ = writeln!(
                text,
                "{}: {} [{}] {}\n    fix: {}",
                self.file, finding.severity, finding.code, finding.message, finding.hint
            );
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Severity;

    #[test]
    fn each_finding_is_followed_by_its_fix() {
        let report = LintReport {
            file: "web.pem",
            findings: &[],
        };
        assert_eq!(report.to_text(), "web.pem: no findings\n");
        let findings = [Finding::new(
            "expired",
            Severity::Error,
            Some(0),
            "certificate 1 has expired",
            "renew it",
        )];
        let report = LintReport {
            file: "web.pem",
            findings: &findings,
        };
        assert_eq!(
            report.to_text(),
            "web.pem: error [expired] certificate 1 has expired\n    fix: renew it\n"
        );
        assert_eq!(
            serde_json::to_value(&report).unwrap()["findings"][0]["code"],
            "expired"
        );
    }
}
