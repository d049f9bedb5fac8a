//! The agents' part of a `GET /metrics` scrape: every node's last contact and each
//! service's deployment state (from [`super::status::nodes`], as `GET /api/nodes`
//! shows them), and whether each rollout group of every configured platform is halted.

use super::records::Records;
use super::{model, rollout};
use certfleet_api::nodes::DeploymentState;
use certfleet_config::PlatformConfig;
use certfleet_monitor::agent_metrics::{AgentNode, AgentSeries, RolloutGroup};
use std::collections::BTreeSet;

/// The agents' series of the platforms in `platforms`.
pub async fn series(
    platforms: &[PlatformConfig],
    records: &Records,
) -> Result<AgentSeries, String> {
    let nodes = super::status::nodes(platforms, records)
        .await?
        .into_iter()
        .map(|status| AgentNode {
            last_seen_unix: status.last_seen.map(|at| at.unix_timestamp()),
            services: status
                .services
                .into_iter()
                .map(|s| (s.service, s.state == DeploymentState::Current))
                .collect(),
            platform: status.platform,
            node: status.node,
        })
        .collect();
    let mut groups = Vec::new();
    for config in platforms {
        // A model that cannot be read is logged by the nodes' listing above.
        let Ok(view) = model::load(config) else {
            continue;
        };
        let platform = &view.platform.name;
        let names: BTreeSet<&str> = view
            .platform
            .services
            .iter()
            .map(|service| service.rollout_group())
            .collect();
        for group in names {
            let halted = rollout::load(records, platform, group)
                .await?
                .is_some_and(|(record, _)| record.halted.is_some());
            groups.push(RolloutGroup {
                platform: platform.clone(),
                group: group.to_owned(),
                halted,
            });
        }
    }
    Ok(AgentSeries { nodes, groups })
}
