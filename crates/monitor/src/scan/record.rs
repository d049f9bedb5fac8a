//! The stored form of a scan result: [`ScanRecord`], one per scanned endpoint and SNI,
//! kept by the server under [`record_key`] (`scans/<HOST:PORT>/<SNI>`, `-` for no SNI)
//! so that the latest scan of each endpoint is what the store holds.
//!
//! This is the one definition of the record: `certfleet scan` builds records from its
//! results and sends them to `POST /api/scans`; the server checks them ([`ScanRecord::check`])
//! and stores them as JSON; `GET /api/scans`, and `status` or metrics reporting the
//! "certificates seen on scanned endpoints", read them back with serde. Fields may be
//! added (each new one with `#[serde(default)]`); none is renamed or removed.
//!
//! ```
//! use certfleet_monitor::scan::record::{record_key, ScanRecord};
//! use certfleet_monitor::scan::{ScanResult, Target};
//! let target = Target::parse("127.0.0.1:8443/web.example.test").unwrap();
//! assert_eq!(record_key(&target).unwrap().as_str(), "scans/127.0.0.1:8443/web.example.test");
//! let result = ScanResult::unreachable(target.to_string(), None, "connection refused".into());
//! let record = ScanRecord::from_result(&result, time::OffsetDateTime::UNIX_EPOCH);
//! assert_eq!(record.scanned_at, "1970-01-01T00:00:00Z");
//! assert_eq!(record.check().unwrap(), target);
//! ```

use super::result::{ChainCertificate, ScanResult};
use super::target::Target;
use crate::error::{MonitorError, Result};
use crate::expiry::ExpiryState;
use certfleet_store::{keys, Key};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The first segment of every scan record's key.
pub const SCANS: &str = keys::SCANS;

/// The key segment standing for "no SNI sent" (no DNS name can be `-`).
pub const NO_SNI: &str = "-";

/// The most certificates a record's chain may hold.
pub const MAX_CHAIN: usize = 16;

/// A lint finding as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFinding {
    /// The lint code (`expired`, `host-not-covered`, ...).
    pub code: String,
    /// `error`, `warning` or `notice`.
    pub severity: String,
    /// What is wrong.
    pub message: String,
}

/// One scan of one endpoint, as the store keeps it (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRecord {
    /// The target as scanned: `HOST:PORT` or `HOST:PORT/SNI`.
    pub target: String,
    /// `HOST:PORT` (IPv6 in brackets).
    #[serde(default)]
    pub endpoint: String,
    /// The SNI sent, or null.
    #[serde(default)]
    pub sni: Option<String>,
    /// When the scan ran, RFC 3339 (UTC).
    pub scanned_at: String,
    /// A handshake completed.
    pub reachable: bool,
    /// Why it could not be reached or judged.
    #[serde(default)]
    pub error: Option<String>,
    /// `TLSv1.3` or `TLSv1.2`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// SHA-1 thumbprint of the deployed leaf (40 upper-case hex digits).
    #[serde(default)]
    pub sha1_thumbprint: Option<String>,
    /// The leaf's subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// The leaf's issuer.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The leaf's SANs (`DNS:name`, `IP:addr`).
    #[serde(default)]
    pub sans: Vec<String>,
    /// The leaf's notAfter, RFC 3339: the expiry to watch.
    #[serde(default)]
    pub not_after: Option<String>,
    /// The expiry state at `scanned_at`.
    #[serde(default)]
    pub state: Option<ExpiryState>,
    /// The chain led to the scanner's trust store.
    #[serde(default)]
    pub chain_valid: Option<bool>,
    /// Why it did not.
    #[serde(default)]
    pub chain_error: Option<String>,
    /// The leaf covered the SNI (or IP address).
    #[serde(default)]
    pub hostname_match: Option<bool>,
    /// The deployed leaf is not the managed one (null: nothing managed for the name).
    #[serde(default)]
    pub drift: Option<bool>,
    /// The managed certificate's thumbprint, when there is one.
    #[serde(default)]
    pub managed_sha1_thumbprint: Option<String>,
    /// Lint findings.
    #[serde(default)]
    pub findings: Vec<RecordedFinding>,
    /// The presented chain, in the order sent.
    #[serde(default)]
    pub chain: Vec<ChainCertificate>,
}

impl ScanRecord {
    /// The record of `result`, scanned at `scanned_at`.
    pub fn from_result(result: &ScanResult, scanned_at: OffsetDateTime) -> Self {
        let endpoint = Target::parse(&result.target)
            .map(|target| target.endpoint())
            .unwrap_or_default();
        ScanRecord {
            target: result.target.clone(),
            endpoint,
            sni: result.sni.clone(),
            scanned_at: rfc3339(scanned_at),
            reachable: result.reachable,
            error: result.error.clone(),
            protocol: result.protocol.clone(),
            sha1_thumbprint: result.sha1_thumbprint.clone(),
            subject: result.subject.clone(),
            issuer: result.issuer.clone(),
            sans: result.sans.clone(),
            not_after: result.not_after.clone(),
            state: result.state,
            chain_valid: result.chain_valid,
            chain_error: result.chain_error.clone(),
            hostname_match: result.hostname_match,
            drift: result.drift,
            managed_sha1_thumbprint: result.managed_sha1_thumbprint.clone(),
            findings: result
                .findings
                .iter()
                .map(|f| RecordedFinding {
                    code: f.code.to_owned(),
                    severity: f.severity.as_str().to_owned(),
                    message: f.message.clone(),
                })
                .collect(),
            chain: result.chain.clone(),
        }
    }

    /// Checks a record received from a client: the target parses, `scanned_at` is an
    /// RFC 3339 time, thumbprints are 40 hex digits. Returns the parsed target; the
    /// error names the field.
    pub fn check(&self) -> Result<Target> {
        let target = Target::parse(&self.target)?;
        let bad = |what: String| MonitorError::BadRecord(format!("{}: {what}", self.target));
        self.scanned_time().ok_or_else(|| {
            bad(format!(
                "scanned_at '{}' is not an RFC 3339 time",
                self.scanned_at
            ))
        })?;
        for (field, value) in [
            ("sha1_thumbprint", &self.sha1_thumbprint),
            ("managed_sha1_thumbprint", &self.managed_sha1_thumbprint),
        ] {
            if let Some(value) = value {
                if value.len() != 40 || !value.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(bad(format!("{field} '{value}' is not 40 hex digits")));
                }
            }
        }
        if self.chain.len() > MAX_CHAIN {
            return Err(bad(format!(
                "chain: {} certificates; a presented chain has at most {MAX_CHAIN}",
                self.chain.len()
            )));
        }
        for (index, certificate) in self.chain.iter().enumerate() {
            if certificate.pem.is_empty() {
                continue;
            }
            match certfleet_formats::pem::decode_blocks(&certificate.pem) {
                Ok(blocks) if blocks.len() == 1 && blocks[0].label == "CERTIFICATE" => {}
                _ => {
                    return Err(bad(format!(
                        "chain[{index}].pem is not one PEM CERTIFICATE block"
                    )))
                }
            }
        }
        Ok(target)
    }

    /// The presented certificates (DER, in the order sent) whose PEM was kept.
    pub fn chain_ders(&self) -> Vec<Vec<u8>> {
        self.chain
            .iter()
            .filter_map(|certificate| certfleet_formats::pem::decode_blocks(&certificate.pem).ok())
            .filter_map(|blocks| blocks.into_iter().next())
            .map(|block| block.der)
            .collect()
    }

    /// `scanned_at` as a time, when it parses.
    pub fn scanned_time(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.scanned_at, &Rfc3339).ok()
    }
}

/// The key prefix of every scan record (`scans`).
pub fn scans_prefix() -> Result<Key> {
    Ok(keys::scans()?)
}

/// Where the latest scan of `target` is kept: `scans/<HOST:PORT>/<SNI>`, with `-` when
/// no SNI is sent. Two spellings of one probe (`a.test:443` and `a.test:443/a.test`)
/// share a key.
pub fn record_key(target: &Target) -> Result<Key> {
    Ok(keys::scan(
        target.endpoint().as_str(),
        target.sni().unwrap_or(NO_SNI),
    )?)
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sample() -> ScanRecord {
        let mut result = ScanResult::unreachable(
            "127.0.0.1:8443/web.example.test".into(),
            Some("web.example.test".into()),
            String::new(),
        );
        result.reachable = true;
        result.error = None;
        result.sha1_thumbprint = Some("A1".repeat(20));
        result.state = Some(ExpiryState::Warning);
        result.drift = Some(false);
        result.managed_sha1_thumbprint = Some("A1".repeat(20));
        ScanRecord::from_result(&result, time::macros::datetime!(2026-11-26 10:00:00 UTC))
    }

    #[test]
    fn keys_name_endpoint_and_sni_and_cannot_escape() {
        let key = |t: &str| record_key(&Target::parse(t).unwrap()).unwrap();
        assert_eq!(key("a.test:443").as_str(), "scans/a.test:443/a.test");
        assert_eq!(key("a.test:443/a.test"), key("a.test:443"));
        assert_eq!(key("[::1]:443").as_str(), "scans/[::1]:443/-");
        assert_eq!(
            key("10.0.0.1:636/ldap.test").as_str(),
            "scans/10.0.0.1:636/ldap.test"
        );
        assert!(scans_prefix().unwrap().covers(key("[::1]:443").as_str()));
    }

    #[test]
    fn records_round_trip_through_json() {
        let record = sample();
        assert_eq!(record.endpoint, "127.0.0.1:8443");
        assert_eq!(record.scanned_at, "2026-11-26T10:00:00Z");
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["state"], "warning");
        assert_eq!(json["drift"], false);
        let back: ScanRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
        // Older or smaller records still read.
        let minimal: ScanRecord = serde_json::from_value(serde_json::json!({
            "target": "a.test:443", "scanned_at": "2026-01-01T00:00:00Z", "reachable": false
        }))
        .unwrap();
        assert!(minimal.check().is_ok());
    }

    #[test]
    fn checks_name_the_bad_field() {
        let mut record = sample();
        record.scanned_at = "yesterday".into();
        assert!(record
            .check()
            .unwrap_err()
            .to_string()
            .contains("scanned_at"));
        let mut record = sample();
        record.sha1_thumbprint = Some("xyz".into());
        assert!(record
            .check()
            .unwrap_err()
            .to_string()
            .contains("sha1_thumbprint"));
        let mut record = sample();
        record.target = "a/../../x".into();
        assert!(record.check().is_err());
    }

    #[test]
    fn kept_chains_read_back_and_bad_ones_are_refused() {
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x07];
        let link = |pem: String| ChainCertificate {
            subject: "CN=x".into(),
            sha1_thumbprint: "B2".repeat(20),
            pem,
        };
        let mut record = sample();
        record.chain = vec![
            link(certfleet_formats::pem::encode("CERTIFICATE", &der)),
            link(String::new()),
        ];
        assert!(record.check().is_ok());
        assert_eq!(record.chain_ders(), vec![der.clone()]);

        record.chain[1] = link(certfleet_formats::pem::encode("PRIVATE KEY", &der));
        let err = record.check().unwrap_err().to_string();
        assert!(err.contains("chain[1].pem"), "{err}");
        assert!(!err.contains("MII"), "{err}");

        record.chain = (0..=MAX_CHAIN).map(|_| link(String::new())).collect();
        assert!(record.check().unwrap_err().to_string().contains("chain"));
    }
}
