//! The outcome of scanning one target ([`ScanResult`]), serialized as one object of
//! `certfleet scan --json`'s `results` (docs/CLI.md), and the judgement of whether it is a
//! problem (exit status 1): unreachable, expired, chain invalid, hostname mismatch, or
//! drifted from the managed certificate.

use crate::expiry::ExpiryState;
use certfleet_pki::lint::Finding;
use certfleet_pki::verify::FailureCode;
use serde::{Deserialize, Serialize};

/// One certificate of the presented chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainCertificate {
    /// Subject distinguished name.
    pub subject: String,
    /// SHA-1 thumbprint, 40 upper-case hex digits.
    pub sha1_thumbprint: String,
    /// The certificate as PEM, so that what was seen can be watched and inspected
    /// later (empty in records made before it was kept).
    #[serde(default)]
    pub pem: String,
}

/// What scanning one target found. Fields other than `target`, `sni`, `reachable` and
/// `error` are null (or empty) when the target could not be reached.
#[derive(Debug, Clone, Serialize)]
pub struct ScanResult {
    /// The target, canonically spelled: `HOST:PORT` or `HOST:PORT/SNI`.
    pub target: String,
    /// The SNI sent, or null when none was (an IP address without `/SNI`).
    pub sni: Option<String>,
    /// A TLS handshake completed.
    pub reachable: bool,
    /// Why the target could not be reached or judged, in words.
    pub error: Option<String>,
    /// `TLSv1.3` or `TLSv1.2`.
    pub protocol: Option<String>,
    /// SHA-1 thumbprint of the presented leaf (40 upper-case hex digits).
    pub sha1_thumbprint: Option<String>,
    /// The leaf's subject.
    pub subject: Option<String>,
    /// The leaf's issuer.
    pub issuer: Option<String>,
    /// The leaf's subject alternative names (`DNS:name`, `IP:addr`).
    pub sans: Vec<String>,
    /// The leaf's notAfter, RFC 3339.
    pub not_after: Option<String>,
    /// Whole days until notAfter (negative once expired).
    pub days_remaining: Option<i64>,
    /// `ok`, `warning` or `expired` against the warning window.
    pub state: Option<ExpiryState>,
    /// The presented chain leads to the trust store (checked now, for a TLS server).
    pub chain_valid: Option<bool>,
    /// Why the chain is not valid, in words.
    pub chain_error: Option<String>,
    /// The kind of chain failure, as `certfleet verify --json` names it.
    pub chain_error_code: Option<FailureCode>,
    /// The leaf's SANs cover the SNI (or the IP address when no SNI was sent).
    pub hostname_match: Option<bool>,
    /// Why the name does not match, in words.
    pub hostname_error: Option<String>,
    /// Lint findings on the presented chain (code, severity, message, hint).
    pub findings: Vec<Finding>,
    /// Every presented certificate, in the order sent.
    pub chain: Vec<ChainCertificate>,
    /// The deployed leaf is not the certificate the server manages for the SNI name;
    /// null when no server was asked, or it manages none for that name.
    pub drift: Option<bool>,
    /// The thumbprint of the managed certificate, when there is one.
    pub managed_sha1_thumbprint: Option<String>,
}

impl ScanResult {
    /// A result for a target that could not be reached, with the reason.
    pub fn unreachable(target: String, sni: Option<String>, error: String) -> Self {
        ScanResult {
            target,
            sni,
            reachable: false,
            error: Some(error),
            protocol: None,
            sha1_thumbprint: None,
            subject: None,
            issuer: None,
            sans: Vec::new(),
            not_after: None,
            days_remaining: None,
            state: None,
            chain_valid: None,
            chain_error: None,
            chain_error_code: None,
            hostname_match: None,
            hostname_error: None,
            findings: Vec::new(),
            chain: Vec::new(),
            drift: None,
            managed_sha1_thumbprint: None,
        }
    }

    /// Compares the deployed leaf with the certificate the server manages for the SNI
    /// name: `managed` is its thumbprint, or `None` when the server manages none for
    /// that name (drift stays null). Unreachable targets have no drift.
    pub fn compare_with_managed(&mut self, managed: Option<&str>) {
        let (Some(deployed), Some(managed)) = (&self.sha1_thumbprint, managed) else {
            self.drift = None;
            self.managed_sha1_thumbprint = None;
            return;
        };
        let managed = certfleet_pki::inspect::fingerprint::normalise(managed);
        self.drift = Some(!deployed.eq_ignore_ascii_case(&managed));
        self.managed_sha1_thumbprint = Some(managed);
    }

    /// The problems that make `scan` exit 1, in words; empty when the target is fine.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.reachable {
            problems.push(format!(
                "unreachable: {}",
                self.error.as_deref().unwrap_or("no handshake")
            ));
            return problems;
        }
        if let Some(error) = &self.error {
            problems.push(error.clone());
        }
        if self.state == Some(ExpiryState::Expired) {
            problems.push(format!(
                "expired on {}",
                self.not_after.as_deref().unwrap_or("an unknown date")
            ));
        }
        if self.chain_valid == Some(false) {
            problems.push(format!(
                "chain not valid: {}",
                self.chain_error.as_deref().unwrap_or("no reason given")
            ));
        }
        if self.hostname_match == Some(false) {
            problems.push(format!(
                "hostname mismatch: {}",
                self.hostname_error.as_deref().unwrap_or("no reason given")
            ));
        }
        if self.drift == Some(true) {
            problems.push(format!(
                "drift: the server manages {} for {}, but {} is deployed",
                self.managed_sha1_thumbprint.as_deref().unwrap_or("-"),
                self.sni.as_deref().unwrap_or("-"),
                self.sha1_thumbprint.as_deref().unwrap_or("-"),
            ));
        }
        problems
    }

    /// True when the target is unreachable, expired, invalid or drifted.
    pub fn has_problem(&self) -> bool {
        !self.problems().is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn reachable() -> ScanResult {
        let mut result =
            ScanResult::unreachable("a.test:443".into(), Some("a.test".into()), "x".into());
        result.reachable = true;
        result.error = None;
        result.sha1_thumbprint = Some("AB".repeat(20));
        result.state = Some(ExpiryState::Ok);
        result.chain_valid = Some(true);
        result.hostname_match = Some(true);
        result
    }

    #[test]
    fn a_fine_result_has_no_problem() {
        let result = reachable();
        assert!(!result.has_problem(), "{:?}", result.problems());
        let mut warned = reachable();
        warned.state = Some(ExpiryState::Warning);
        assert!(!warned.has_problem());
    }

    #[test]
    fn each_failure_is_a_problem() {
        let unreachable =
            ScanResult::unreachable("a.test:443".into(), None, "connection refused".into());
        assert_eq!(unreachable.problems(), ["unreachable: connection refused"]);

        let mut expired = reachable();
        expired.state = Some(ExpiryState::Expired);
        expired.not_after = Some("2020-02-01T00:00:00Z".into());
        assert_eq!(expired.problems(), ["expired on 2020-02-01T00:00:00Z"]);

        let mut invalid = reachable();
        invalid.chain_valid = Some(false);
        invalid.chain_error = Some("unknown issuer".into());
        assert_eq!(invalid.problems(), ["chain not valid: unknown issuer"]);

        let mut mismatch = reachable();
        mismatch.hostname_match = Some(false);
        mismatch.hostname_error = Some("not covered".into());
        assert_eq!(mismatch.problems(), ["hostname mismatch: not covered"]);
    }

    #[test]
    fn drift_compares_thumbprints_as_typed() {
        let mut result = reachable();
        result.compare_with_managed(Some(&"ab:".repeat(20)));
        assert_eq!(result.drift, Some(false));
        assert_eq!(result.managed_sha1_thumbprint, Some("AB".repeat(20)));
        assert!(!result.has_problem());

        result.compare_with_managed(Some(&"CD".repeat(20)));
        assert_eq!(result.drift, Some(true));
        assert!(result.problems()[0].starts_with("drift: the server manages CDCD"));

        result.compare_with_managed(None);
        assert_eq!((result.drift, result.managed_sha1_thumbprint), (None, None));

        let mut unreachable = ScanResult::unreachable("a.test:443".into(), None, "x".into());
        unreachable.compare_with_managed(Some(&"CD".repeat(20)));
        assert_eq!(unreachable.drift, None);
    }

    #[test]
    fn unreachable_results_serialize_every_field() {
        let result =
            ScanResult::unreachable("10.0.0.1:443".into(), None, "connection refused".into());
        let json = serde_json::to_value(&result).unwrap();
        for field in [
            "target",
            "sni",
            "reachable",
            "sha1_thumbprint",
            "not_after",
            "days_remaining",
            "state",
            "chain_valid",
            "hostname_match",
            "protocol",
            "findings",
            "drift",
        ] {
            assert!(json.get(field).is_some(), "{field} missing: {json}");
        }
        assert_eq!(json["reachable"], false);
        assert_eq!(json["error"], "connection refused");
        assert!(json["drift"].is_null());
    }
}
