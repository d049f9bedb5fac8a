//! Nodes gone silent: a node whose agent has not asked or reported for longer than
//! `[agents] unseen_after` raises a `node_unseen` alert naming its platform and node,
//! once per silence (again only after the node was seen and fell silent anew). Checked
//! periodically by [`watch`], started with the agent listener; [`UnseenWatch`] decides,
//! with the time handed in.

use super::Agents;
use certfleet_api::nodes::NodeStatus;
use certfleet_monitor::alerts::{AlertBoard, AlertKind};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// The shortest and longest pause between two checks.
const CHECK_BOUNDS: (Duration, Duration) = (Duration::from_secs(15), Duration::from_secs(60));

/// A node overdue at a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unseen {
    /// The platform.
    pub platform: String,
    /// The node.
    pub node: String,
    /// When its agent was last seen.
    pub last_seen: OffsetDateTime,
}

impl Unseen {
    /// The alert's sentence.
    pub fn message(&self, unseen_after: Duration, now: OffsetDateTime) -> String {
        let silent = (now - self.last_seen).whole_seconds();
        let last_seen = self
            .last_seen
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| self.last_seen.unix_timestamp().to_string());
        format!(
            "node {} of platform {}: its agent was last seen at {last_seen} ({silent} s ago), longer ago than [agents] unseen_after ({} s); is `certfleet agent run` running on it?",
            self.node,
            self.platform,
            unseen_after.as_secs()
        )
    }
}

/// Which nodes are alerted for their current silence.
#[derive(Debug)]
pub struct UnseenWatch {
    unseen_after: Duration,
    alerted: BTreeSet<(String, String)>,
}

impl UnseenWatch {
    /// A watch that reports nodes silent for longer than `unseen_after`.
    pub fn new(unseen_after: Duration) -> Self {
        UnseenWatch {
            unseen_after,
            alerted: BTreeSet::new(),
        }
    }

    /// The nodes of `nodes` that fell silent since the last check, as of `now`: enrolled
    /// nodes last seen longer than `unseen_after` ago, not already reported for this
    /// silence. A node without a last contact is left out.
    pub fn check(&mut self, nodes: &[NodeStatus], now: OffsetDateTime) -> Vec<Unseen> {
        let mut newly = Vec::new();
        let mut still = BTreeSet::new();
        for status in nodes.iter().filter(|status| status.enrolled) {
            let Some(last_seen) = status.last_seen else {
                continue;
            };
            let silent = now - last_seen;
            if silent <= self.unseen_after {
                continue;
            }
            let key = (status.platform.clone(), status.node.clone());
            if !self.alerted.contains(&key) {
                newly.push(Unseen {
                    platform: status.platform.clone(),
                    node: status.node.clone(),
                    last_seen,
                });
            }
            still.insert(key);
        }
        self.alerted = still;
        newly
    }

    /// Raises a `node_unseen` alert for each node that fell silent by `now`.
    pub fn raise(&mut self, nodes: &[NodeStatus], now: OffsetDateTime, alerts: &AlertBoard) {
        for unseen in self.check(nodes, now) {
            alerts.raise(
                AlertKind::NodeUnseen,
                None,
                unseen.message(self.unseen_after, now),
                1,
            );
        }
    }
}

/// How long to wait between checks: a quarter of `unseen_after`, within 15 s to 60 s.
fn check_interval(unseen_after: Duration) -> Duration {
    let (shortest, longest) = CHECK_BOUNDS;
    (unseen_after / 4).clamp(shortest, longest)
}

/// Checks every configured platform's nodes periodically until the task is dropped;
/// nothing to do without `[agents]`. A store that cannot be read is logged and tried
/// again at the next check.
pub async fn watch(agents: Arc<Agents>) {
    let Some(config) = agents.app.config.agents.as_ref() else {
        return;
    };
    let mut watch = UnseenWatch::new(config.unseen_after);
    let mut ticker = tokio::time::interval(check_interval(config.unseen_after));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match super::status::nodes(&agents.app.config.platforms, &agents.records).await {
            Ok(nodes) => watch.raise(&nodes, OffsetDateTime::now_utc(), &agents.app.alerts),
            Err(err) => tracing::warn!("agents: checking for unseen nodes: {err}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const START: i64 = 1_800_000_000;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(START + seconds).unwrap()
    }

    fn node(name: &str, enrolled: bool, last_seen: Option<i64>) -> NodeStatus {
        NodeStatus {
            platform: "lab".into(),
            node: name.into(),
            enrolled,
            last_seen: last_seen.map(at),
            agent_version: None,
            services: Vec::new(),
        }
    }

    #[test]
    fn a_silent_node_is_reported_once_per_silence() {
        let mut watch = UnseenWatch::new(Duration::from_secs(900));
        let nodes = [
            node("n1", true, Some(0)),
            node("n2", true, Some(600)),
            node("never", false, None),
            node("quiet", true, None),
        ];
        // Within the limit: nothing.
        assert!(watch.check(&nodes, at(900)).is_empty());
        // n1 is past it, n2 not yet.
        let first = watch.check(&nodes, at(901));
        assert_eq!(first.len(), 1);
        assert_eq!(
            (first[0].platform.as_str(), first[0].node.as_str()),
            ("lab", "n1")
        );
        assert_eq!(first[0].last_seen, at(0));
        // Still silent: not again; n2 falls silent later.
        assert!(watch.check(&nodes, at(1200)).is_empty());
        let second = watch.check(&nodes, at(1501));
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].node, "n2");
        // n1 is seen again, then falls silent anew: reported again.
        let back = [node("n1", true, Some(1600)), node("n2", true, Some(600))];
        assert!(watch.check(&back, at(1700)).is_empty());
        let again = watch.check(&back, at(2501));
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].node, "n1");
    }

    #[test]
    fn alerts_name_the_platform_and_node() {
        let board = AlertBoard::default();
        let mut watch = UnseenWatch::new(Duration::from_secs(60));
        watch.raise(&[node("n1", true, Some(0))], at(61), &board);
        watch.raise(&[node("n1", true, Some(0))], at(120), &board);
        let alerts = board.recent();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::NodeUnseen);
        for part in ["node n1", "platform lab", "unseen_after (60 s)"] {
            assert!(
                alerts[0].message.contains(part),
                "{part}: {}",
                alerts[0].message
            );
        }
    }

    #[test]
    fn checks_come_often_enough_but_not_too_often() {
        assert_eq!(
            check_interval(Duration::from_secs(60)),
            Duration::from_secs(15)
        );
        assert_eq!(
            check_interval(Duration::from_secs(160)),
            Duration::from_secs(40)
        );
        assert_eq!(
            check_interval(Duration::from_secs(900)),
            Duration::from_secs(60)
        );
    }
}
