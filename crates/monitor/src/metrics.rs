//! Prometheus metrics (OpenMetrics text) of a running server, through prometheus-client;
//! [`crate::metrics_text`] turns them into the older Prometheus text format for readers
//! that do not ask for OpenMetrics.
//!
//! [`ServerMetrics`] holds one registry, built once, with one collector that renders the
//! [`MetricsSnapshot`] handed to [`ServerMetrics::render`]; each scrape gathers a fresh
//! snapshot (the inventory is judged at scrape time) and encodes it. Families:
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `certfleet_certificate_expiry_timestamp_seconds` | gauge: notAfter, Unix seconds | `subject`, `sha1`, `role`, `used_by`, `domain` |
//! | `certfleet_certificate_state` | gauge: 1 for the current state, 0 for the others | the same and `state` |
//! | `certfleet_certificates` | gauge: certificates per state | `state` |
//! | `certfleet_monitor_warn_seconds` | gauge: the warning window (`warn_days`), in seconds | |
//! | `certfleet_monitor_last_evaluation_timestamp_seconds` | gauge | |
//! | `certfleet_edge_alerts_total` | counter: alerts raised by handshakes and certdirs | `kind` |
//! | `certfleet_acme_failures` | gauge: failed attempts since the last success | `domain` |
//! | `certfleet_webhook_deliveries_total` | counter | `outcome` (`delivered`, `failed`) |
//!
//! and the agents' series ([`crate::agent_metrics`]), the labelled certificate series
//! ([`crate::certificate_metrics`]: `kind`, `name`, `domain`, `platform`, `service`, one
//! series per CA certificate), the scanned endpoints' ([`crate::scan_metrics`]), the
//! listeners' handshakes and requests ([`crate::edge_metrics`]) and
//! `certfleet_build_info` ([`crate::build_info`]).
//!
//! Every certificate of the inventory has its series, CA certificates included; `domain`
//! is empty for certificates no domain holds. In the first two families a CA certificate
//! carries the `used_by` and `domain` of the first chain that added it (as they always
//! did); the labelled families name it as a CA of its own.

use crate::agent_metrics::AgentSeries;
use crate::build_info::BuildInfo;
use crate::edge_metrics::ListenerTotals;
use crate::expiry::ExpiryState;
use crate::inventory::InventoryEntry;
use crate::scan_metrics::ScanSeries;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// The content type of [`ServerMetrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The states in the order the metrics list them.
const STATES: [ExpiryState; 3] = [ExpiryState::Ok, ExpiryState::Warning, ExpiryState::Expired];

/// What one scrape reports.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    /// Every watched certificate.
    pub certificates: Vec<InventoryEntry>,
    /// `[monitor] warn_days`.
    pub warn_days: u32,
    /// When the expiry watcher last evaluated the inventory (Unix seconds).
    pub last_evaluation_unix: Option<i64>,
    /// The edge's alert totals since start: `(kind, count)`.
    pub edge_alerts: Vec<(String, u64)>,
    /// Each ACME domain's failed attempts since its last success: `(domain, failures)`.
    pub acme_failures: Vec<(String, u64)>,
    /// Webhook posts delivered since start.
    pub webhook_delivered: u64,
    /// Webhook posts given up on (after their retries) since start.
    pub webhook_failed: u64,
    /// The nodes' agents and the rollout groups.
    pub agents: AgentSeries,
    /// Certificates of the labelled families only, beside `certificates`: those issued
    /// for the services agents deploy (none of `certificates` again).
    pub agent_certificates: Vec<InventoryEntry>,
    /// The latest scan of each recorded target.
    pub scans: Vec<ScanSeries>,
    /// Each listener's handshake and request totals.
    pub listeners: Vec<ListenerTotals>,
    /// The running binary's build.
    pub build: BuildInfo,
}

/// The server's metrics registry.
#[derive(Debug)]
pub struct ServerMetrics {
    registry: Registry,
    current: Arc<SnapshotCollector>,
    /// One scrape at a time: the snapshot set is the snapshot encoded.
    scrape: Mutex<()>,
}

impl Default for ServerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerMetrics {
    /// A registry with the collector registered.
    pub fn new() -> Self {
        let current = Arc::new(SnapshotCollector::default());
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Arc::clone(&current)));
        ServerMetrics {
            registry,
            current,
            scrape: Mutex::new(()),
        }
    }

    /// The OpenMetrics text of `snapshot` (served with [`CONTENT_TYPE`]).
    pub fn render(&self, snapshot: MetricsSnapshot) -> Result<String, fmt::Error> {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(PoisonError::into_inner);
        *self
            .current
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Encodes the snapshot last set.
#[derive(Debug, Default)]
struct SnapshotCollector {
    snapshot: Mutex<Arc<MetricsSnapshot>>,
}

/// A label value escaped for the text format (`\\`, `\"`, `\n`): prometheus-client
/// writes label values as given, and a subject is whatever the certificate says.
pub(crate) fn label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// The labels naming one certificate.
fn certificate_labels(entry: &InventoryEntry) -> Vec<(&'static str, String)> {
    vec![
        ("subject", label_value(&entry.subject)),
        ("sha1", label_value(&entry.sha1_thumbprint)),
        ("role", entry.role.as_str().to_owned()),
        ("used_by", label_value(&entry.used_by)),
        (
            "domain",
            label_value(entry.domain.as_deref().unwrap_or_default()),
        ),
    ]
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let snapshot = Arc::clone(&self.snapshot.lock().unwrap_or_else(PoisonError::into_inner));

        let mut family = encoder.encode_descriptor(
            "certfleet_certificate_expiry_timestamp_seconds",
            "End of validity (notAfter) of each watched certificate, CA certificates included, in Unix seconds",
            None,
            MetricType::Gauge,
        )?;
        for entry in &snapshot.certificates {
            let labels = certificate_labels(entry);
            ConstGauge::new(entry.not_after_unix).encode(family.encode_family(&labels)?)?;
        }

        let mut family = encoder.encode_descriptor(
            "certfleet_certificate_state",
            "Expiry state of each watched certificate: 1 for the state it is in (ok, warning within warn_days, expired), 0 for the others",
            None,
            MetricType::Gauge,
        )?;
        for entry in &snapshot.certificates {
            for state in STATES {
                let mut labels = certificate_labels(entry);
                labels.push(("state", state.as_str().to_owned()));
                let value = i64::from(entry.state == state);
                ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
            }
        }

        let mut family = encoder.encode_descriptor(
            "certfleet_certificates",
            "Watched certificates per expiry state",
            None,
            MetricType::Gauge,
        )?;
        for state in STATES {
            let count = snapshot
                .certificates
                .iter()
                .filter(|e| e.state == state)
                .count();
            let labels = [("state", state.as_str())];
            ConstGauge::new(i64::try_from(count).unwrap_or(i64::MAX))
                .encode(family.encode_family(&labels)?)?;
        }

        let warn = ConstGauge::new(i64::from(snapshot.warn_days) * 86_400);
        warn.encode(encoder.encode_descriptor(
            "certfleet_monitor_warn_seconds",
            "How long before notAfter a certificate is in warning ([monitor] warn_days), in seconds",
            None,
            warn.metric_type(),
        )?)?;

        if let Some(at) = snapshot.last_evaluation_unix {
            let at = ConstGauge::new(at);
            at.encode(encoder.encode_descriptor(
                "certfleet_monitor_last_evaluation_timestamp_seconds",
                "When the expiry watcher last evaluated every certificate, in Unix seconds",
                None,
                at.metric_type(),
            )?)?;
        }

        let mut family = encoder.encode_descriptor(
            "certfleet_edge_alerts",
            "Alerts raised by the edge since start: expired or mismatched domain certificates served, failed certdir reloads",
            None,
            MetricType::Counter,
        )?;
        for (kind, count) in &snapshot.edge_alerts {
            let labels = [("kind", label_value(kind))];
            ConstCounter::new(*count).encode(family.encode_family(&labels)?)?;
        }

        let mut family = encoder.encode_descriptor(
            "certfleet_acme_failures",
            "Failed ACME attempts of each domain with ACME on since its last success",
            None,
            MetricType::Gauge,
        )?;
        for (domain, failures) in &snapshot.acme_failures {
            let labels = [("domain", label_value(domain))];
            ConstGauge::new(i64::try_from(*failures).unwrap_or(i64::MAX))
                .encode(family.encode_family(&labels)?)?;
        }

        let mut family = encoder.encode_descriptor(
            "certfleet_webhook_deliveries",
            "Expiry events posted to [monitor] webhook since start, by outcome (failed: given up after retries)",
            None,
            MetricType::Counter,
        )?;
        for (outcome, count) in [
            ("delivered", snapshot.webhook_delivered),
            ("failed", snapshot.webhook_failed),
        ] {
            let labels = [("outcome", outcome)];
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        crate::agent_metrics::encode(&snapshot.agents, &mut encoder)?;
        crate::certificate_metrics::encode(
            snapshot
                .certificates
                .iter()
                .chain(&snapshot.agent_certificates),
            &mut encoder,
        )?;
        crate::scan_metrics::encode(&snapshot.scans, &mut encoder)?;
        crate::edge_metrics::encode(&snapshot.listeners, &mut encoder)?;
        crate::build_info::encode(&snapshot.build, &mut encoder)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::inventory::InventoryBuilder;
    use certfleet_testkit::chain_der;
    use time::OffsetDateTime;

    /// The value of the series of `name` whose label set contains every `labels` pair.
    fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<String> {
        text.lines()
            .filter(|line| line.starts_with(&format!("{name}{{")))
            .find(|line| {
                labels
                    .iter()
                    .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
            })
            .and_then(|line| line.rsplit(' ').next())
            .map(str::to_owned)
    }

    #[test]
    fn every_certificate_has_its_expiry_gauge_and_state() {
        let (root, intermediate, leaf) = chain_der("soon.example.test", 10);
        let mut builder = InventoryBuilder::new(OffsetDateTime::now_utc(), 30);
        builder.add_chain(
            [leaf.as_slice(), intermediate.as_slice(), root.as_slice()],
            "domain soon.example.test",
            Some("soon.example.test"),
        );
        let inventory = builder.finish();
        let metrics = ServerMetrics::new();
        let snapshot = MetricsSnapshot {
            certificates: inventory.entries.clone(),
            warn_days: 30,
            last_evaluation_unix: Some(1_700_000_000),
            edge_alerts: vec![("expired".into(), 3), ("name_mismatch".into(), 0)],
            acme_failures: vec![("acme.example.test".into(), 2)],
            webhook_delivered: 1,
            webhook_failed: 0,
            ..MetricsSnapshot::default()
        };
        let text = metrics.render(snapshot.clone()).unwrap();
        for entry in &inventory.entries {
            let got = value(
                &text,
                "certfleet_certificate_expiry_timestamp_seconds",
                &[
                    ("sha1", &entry.sha1_thumbprint),
                    ("role", entry.role.as_str()),
                    ("domain", "soon.example.test"),
                    ("used_by", "domain soon.example.test"),
                ],
            );
            assert_eq!(got, Some(entry.not_after_unix.to_string()), "{text}");
        }
        let leaf_sha1 = &inventory.entries[0].sha1_thumbprint;
        let state = |s: &str| {
            value(
                &text,
                "certfleet_certificate_state",
                &[("sha1", leaf_sha1), ("state", s)],
            )
        };
        assert_eq!(state("warning").as_deref(), Some("1"), "{text}");
        assert_eq!(state("ok").as_deref(), Some("0"), "{text}");
        assert_eq!(
            value(&text, "certfleet_certificates", &[("state", "ok")]).as_deref(),
            Some("2")
        );
        assert_eq!(
            value(&text, "certfleet_edge_alerts_total", &[("kind", "expired")]).as_deref(),
            Some("3"),
            "{text}"
        );
        assert_eq!(
            value(
                &text,
                "certfleet_acme_failures",
                &[("domain", "acme.example.test")]
            )
            .as_deref(),
            Some("2")
        );
        assert_eq!(
            value(
                &text,
                "certfleet_webhook_deliveries_total",
                &[("outcome", "delivered")]
            )
            .as_deref(),
            Some("1")
        );
        assert!(
            text.contains("certfleet_monitor_warn_seconds 2592000"),
            "{text}"
        );
        assert!(text.trim_end().ends_with("# EOF"), "{text}");

        // The registry is reused: a later scrape shows the later snapshot only.
        let later = metrics
            .render(MetricsSnapshot {
                certificates: Vec::new(),
                ..snapshot
            })
            .unwrap();
        assert!(!later.contains(leaf_sha1.as_str()), "{later}");
        assert_eq!(
            value(&later, "certfleet_certificates", &[("state", "ok")]).as_deref(),
            Some("0")
        );
    }

    #[test]
    fn label_values_cannot_break_out_of_their_quotes() {
        assert_eq!(
            label_value("O=\"Evil\\\", Inc\"\nfake_metric 1"),
            "O=\\\"Evil\\\\\\\", Inc\\\"\\nfake_metric 1"
        );
        let (_, _, leaf) = chain_der("plain.example.test", 90);
        let mut builder = InventoryBuilder::new(OffsetDateTime::now_utc(), 30);
        builder.add_chain([leaf.as_slice()], "default", None);
        let mut entry = builder.finish().entries.remove(0);
        entry.subject = "CN=a\"b\nfake_metric{x=\"y\"} 1".into();
        let text = ServerMetrics::new()
            .render(MetricsSnapshot {
                certificates: vec![entry],
                ..MetricsSnapshot::default()
            })
            .unwrap();
        assert!(
            !text.lines().any(|l| l.starts_with("fake_metric")),
            "{text}"
        );
        assert!(
            text.contains(r#"subject="CN=a\"b\nfake_metric{x=\"y\"} 1""#),
            "{text}"
        );
    }
}
