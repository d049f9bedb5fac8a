//! The labelled certificate series of `GET /metrics`, encoded by [`crate::metrics`]'s
//! collector, one series per watched certificate:
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `certfleet_certificate_not_after_timestamp_seconds` | gauge: notAfter, Unix seconds | `kind`, `name`, `domain`, `platform`, `service`, `role`, `sha1` |
//! | `certfleet_certificate_not_before_timestamp_seconds` | gauge: notBefore, Unix seconds | the same |
//! | `certfleet_certificate_info` | gauge, always 1 | the same, and `subject`, `issuer`, `serial`, `not_before` |
//!
//! `kind` is what holds the certificate ([`crate::holder::HolderKind`]: `domain`,
//! `listener-certdir`, `default`, `platform-service`, `platform-trust`, `scan-target`,
//! `agent-service`),
//! except for CA certificates, which are `ca` whoever presents them: one series per CA,
//! named by its subject, with no domain, platform or service. Every family has the same
//! label set on every series; a label that does not apply is empty, which Prometheus
//! reads as absent.

use crate::inventory::{ChainRole, InventoryEntry};
use crate::metrics::label_value;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::fmt;

/// The `kind` of a CA certificate's series.
pub const CA_KIND: &str = "ca";

/// The labels naming `entry`: `kind`, `name`, `domain`, `platform`, `service`, `role`,
/// `sha1`, escaped.
pub fn identity_labels(entry: &InventoryEntry) -> Vec<(&'static str, String)> {
    let holder = &entry.detail.holder;
    let optional = |value: &Option<String>| label_value(value.as_deref().unwrap_or_default());
    let (kind, name, domain, platform, service) = if entry.role == ChainRole::Leaf {
        (
            holder.kind.as_str(),
            label_value(&holder.name),
            optional(&holder.domain),
            optional(&holder.platform),
            optional(&holder.service),
        )
    } else {
        (
            CA_KIND,
            label_value(&entry.subject),
            String::new(),
            String::new(),
            String::new(),
        )
    };
    vec![
        ("kind", kind.to_owned()),
        ("name", name),
        ("domain", domain),
        ("platform", platform),
        ("service", service),
        ("role", entry.role.as_str().to_owned()),
        ("sha1", label_value(&entry.sha1_thumbprint)),
    ]
}

/// Writes the labelled certificate families.
pub(crate) fn encode<'e>(
    certificates: impl Iterator<Item = &'e InventoryEntry> + Clone,
    encoder: &mut DescriptorEncoder<'_>,
) -> fmt::Result {
    let mut family = encoder.encode_descriptor(
        "certfleet_certificate_not_after_timestamp_seconds",
        "End of validity (notAfter) of each watched certificate in Unix seconds, labelled by what holds it; CA certificates have one series each, kind=\"ca\"",
        None,
        MetricType::Gauge,
    )?;
    for entry in certificates.clone() {
        ConstGauge::new(entry.not_after_unix)
            .encode(family.encode_family(&identity_labels(entry))?)?;
    }

    let mut family = encoder.encode_descriptor(
        "certfleet_certificate_not_before_timestamp_seconds",
        "Start of validity (notBefore) of each watched certificate in Unix seconds, labelled as certfleet_certificate_not_after_timestamp_seconds",
        None,
        MetricType::Gauge,
    )?;
    for entry in certificates.clone() {
        ConstGauge::new(entry.detail.not_before_unix)
            .encode(family.encode_family(&identity_labels(entry))?)?;
    }

    let mut family = encoder.encode_descriptor(
        "certfleet_certificate_info",
        "Details of each watched certificate (subject, issuer, serial, notBefore), always 1",
        None,
        MetricType::Gauge,
    )?;
    for entry in certificates {
        let mut labels = identity_labels(entry);
        labels.extend([
            ("subject", label_value(&entry.subject)),
            ("issuer", label_value(&entry.issuer)),
            ("serial", label_value(&entry.detail.serial)),
            ("not_before", label_value(&entry.detail.not_before)),
        ]);
        ConstGauge::new(1).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "certificate_metrics_tests.rs"]
mod tests;
