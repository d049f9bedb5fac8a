//! The scanned endpoints' series of `GET /metrics`, one per target whose latest scan the
//! store holds (`certfleet scan --server ...` records them), encoded by
//! [`crate::metrics`]'s collector:
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `certfleet_scan_success` | gauge: 1 when the last scan completed a handshake, the chain was valid and covered the name, else 0 | `target` |
//! | `certfleet_scan_last_time_seconds` | gauge: when the last scan ran, Unix seconds | `target` |
//! | `certfleet_scan_earliest_expiry_seconds` | gauge: the earliest notAfter of the chain the endpoint presented, Unix seconds | `target` |
//!
//! A target that could not be reached has no earliest expiry series.

use crate::metrics::label_value;
use crate::scan::record::{scans_prefix, ScanRecord};
use certfleet_store::Storage;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::fmt;

/// What one scrape reports about one scanned target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSeries {
    /// The target as scanned: `HOST:PORT` or `HOST:PORT/SNI`.
    pub target: String,
    /// A handshake completed, and neither the chain nor the name was found wrong.
    pub success: bool,
    /// When the scan ran (Unix seconds), when its record says so readably.
    pub last_time_unix: Option<i64>,
    /// The earliest notAfter of the presented chain (Unix seconds).
    pub earliest_expiry_unix: Option<i64>,
}

impl ScanSeries {
    /// The series of one stored record.
    pub fn of(record: &ScanRecord) -> Self {
        let earliest_expiry_unix = record
            .chain_ders()
            .iter()
            .filter_map(|der| x509_parser::parse_x509_certificate(der).ok())
            .map(|(_, cert)| cert.validity().not_after.timestamp())
            .min();
        ScanSeries {
            target: record.target.clone(),
            success: record.reachable
                && record.chain_valid != Some(false)
                && record.hostname_match != Some(false),
            last_time_unix: record.scanned_time().map(|at| at.unix_timestamp()),
            earliest_expiry_unix,
        }
    }
}

/// The series of every scan record in `store`, by target.
pub async fn load(store: &dyn Storage) -> Result<Vec<ScanSeries>, String> {
    let prefix = scans_prefix().map_err(|err| format!("the scan records' key: {err}"))?;
    let entries = store
        .list(&prefix)
        .await
        .map_err(|err| format!("the store could not list the scan records: {err}"))?;
    let mut series: Vec<ScanSeries> = entries
        .iter()
        // A record that does not read is reported by GET /api/scans.
        .filter_map(|entry| serde_json::from_slice::<ScanRecord>(&entry.value).ok())
        .map(|record| ScanSeries::of(&record))
        .collect();
    series.sort_by(|a, b| a.target.cmp(&b.target));
    series.dedup_by(|a, b| a.target == b.target);
    Ok(series)
}

/// Writes the scanned endpoints' families.
pub(crate) fn encode(scans: &[ScanSeries], encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let labels = |scan: &ScanSeries| [("target", label_value(&scan.target))];
    let mut family = encoder.encode_descriptor(
        "certfleet_scan_success",
        "Whether the last scan of each target completed a handshake with a valid chain covering the name (1) or not (0)",
        None,
        MetricType::Gauge,
    )?;
    for scan in scans {
        ConstGauge::new(i64::from(scan.success)).encode(family.encode_family(&labels(scan))?)?;
    }

    let mut family = encoder.encode_descriptor(
        "certfleet_scan_last_time_seconds",
        "When each target was last scanned, in Unix seconds",
        None,
        MetricType::Gauge,
    )?;
    for scan in scans {
        if let Some(at) = scan.last_time_unix {
            ConstGauge::new(at).encode(family.encode_family(&labels(scan))?)?;
        }
    }

    let mut family = encoder.encode_descriptor(
        "certfleet_scan_earliest_expiry_seconds",
        "The earliest notAfter of the chain each target presented at its last scan, in Unix seconds",
        None,
        MetricType::Gauge,
    )?;
    for scan in scans {
        if let Some(at) = scan.earliest_expiry_unix {
            ConstGauge::new(at).encode(family.encode_family(&labels(scan))?)?;
        }
    }
    Ok(())
}
