//! The agents' series of `GET /metrics`, encoded by [`crate::metrics`]'s collector:
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `certfleet_agent_last_seen_timestamp_seconds` | gauge: when a node's agent last asked or reported, Unix seconds | `platform`, `node` |
//! | `certfleet_agent_deployment_current` | gauge: 1 when the service's files hold its desired certificate and the check passed, else 0 | `platform`, `node`, `service` |
//! | `certfleet_agent_rollouts_halted` | gauge: 1 when the rollout group waits for an administrator, else 0 | `platform`, `group` |
//!
//! Nodes whose agent was never seen have no last-seen series.

use crate::metrics::label_value;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::fmt;

/// What one scrape reports about the nodes' agents.
#[derive(Debug, Clone, Default)]
pub struct AgentSeries {
    /// Every node of every configured platform.
    pub nodes: Vec<AgentNode>,
    /// Every rollout group of every configured platform.
    pub groups: Vec<RolloutGroup>,
}

/// One node.
#[derive(Debug, Clone)]
pub struct AgentNode {
    /// The platform.
    pub platform: String,
    /// The node.
    pub node: String,
    /// When its agent last asked or reported (Unix seconds).
    pub last_seen_unix: Option<i64>,
    /// Its services: `(service, current)`.
    pub services: Vec<(String, bool)>,
}

/// One rollout group.
#[derive(Debug, Clone)]
pub struct RolloutGroup {
    /// The platform.
    pub platform: String,
    /// The group.
    pub group: String,
    /// Whether a failed deployment halted it.
    pub halted: bool,
}

/// Writes the agents' families.
pub(crate) fn encode(series: &AgentSeries, encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let mut family = encoder.encode_descriptor(
        "certfleet_agent_last_seen_timestamp_seconds",
        "When each node's agent last asked for its assignment or reported, in Unix seconds",
        None,
        MetricType::Gauge,
    )?;
    for node in &series.nodes {
        if let Some(at) = node.last_seen_unix {
            let labels = [
                ("platform", label_value(&node.platform)),
                ("node", label_value(&node.node)),
            ];
            ConstGauge::new(at).encode(family.encode_family(&labels)?)?;
        }
    }

    let mut family = encoder.encode_descriptor(
        "certfleet_agent_deployment_current",
        "Whether each service's files on its node hold the desired certificate and its check passed (1) or not (0)",
        None,
        MetricType::Gauge,
    )?;
    for node in &series.nodes {
        for (service, current) in &node.services {
            let labels = [
                ("platform", label_value(&node.platform)),
                ("node", label_value(&node.node)),
                ("service", label_value(service)),
            ];
            ConstGauge::new(i64::from(*current)).encode(family.encode_family(&labels)?)?;
        }
    }

    let mut family = encoder.encode_descriptor(
        "certfleet_agent_rollouts_halted",
        "Whether each rollout group is halted by a failed deployment and waits for `certfleet rollout resume` (1) or not (0)",
        None,
        MetricType::Gauge,
    )?;
    for group in &series.groups {
        let labels = [
            ("platform", label_value(&group.platform)),
            ("group", label_value(&group.group)),
        ];
        ConstGauge::new(i64::from(group.halted)).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::metrics::{MetricsSnapshot, ServerMetrics};

    #[test]
    fn nodes_services_and_groups_have_their_series() {
        let snapshot = MetricsSnapshot {
            agents: AgentSeries {
                nodes: vec![
                    AgentNode {
                        platform: "lab".into(),
                        node: "n1".into(),
                        last_seen_unix: Some(1_800_000_000),
                        services: vec![("web".into(), true), ("db".into(), false)],
                    },
                    AgentNode {
                        platform: "lab".into(),
                        node: "n2".into(),
                        last_seen_unix: None,
                        services: vec![("cache".into(), false)],
                    },
                ],
                groups: vec![RolloutGroup {
                    platform: "lab".into(),
                    group: "web".into(),
                    halted: true,
                }],
            },
            ..MetricsSnapshot::default()
        };
        let text = ServerMetrics::new().render(snapshot).unwrap();
        for line in [
            "certfleet_agent_last_seen_timestamp_seconds{platform=\"lab\",node=\"n1\"} 1800000000",
            "certfleet_agent_deployment_current{platform=\"lab\",node=\"n1\",service=\"web\"} 1",
            "certfleet_agent_deployment_current{platform=\"lab\",node=\"n1\",service=\"db\"} 0",
            "certfleet_agent_deployment_current{platform=\"lab\",node=\"n2\",service=\"cache\"} 0",
            "certfleet_agent_rollouts_halted{platform=\"lab\",group=\"web\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}: {text}");
        }
        assert!(!text.contains("node=\"n2\"} "), "never seen: {text}");
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
    }
}
