//! The agents' part of a `GET /metrics` scrape: every node's last contact and each
//! service's deployment state (from [`super::status::nodes`], as `GET /api/nodes`
//! shows them), whether each rollout group of every configured platform is halted, and
//! the certificate issued for each service agents deploy (`kind="agent-service"` in the
//! labelled certificate series) with its chain.

use super::records::Records;
use super::{model, rollout};
use certfleet_api::nodes::DeploymentState;
use certfleet_config::PlatformConfig;
use certfleet_monitor::agent_metrics::{AgentNode, AgentSeries, RolloutGroup};
use certfleet_monitor::holder::Holder;
use certfleet_monitor::inventory::{InventoryBuilder, InventoryEntry};
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

/// The certificate (and chain) issued for each service of the platforms in `platforms`
/// that has one, judged against `warn_days`, leaving out the certificates whose SHA-1
/// thumbprints are in `already` (the inventory's, so that a CA is listed once).
pub async fn certificates(
    platforms: &[PlatformConfig],
    records: &Records,
    warn_days: u32,
    already: impl IntoIterator<Item = String>,
) -> Result<Vec<InventoryEntry>, String> {
    let mut builder =
        InventoryBuilder::without(time::OffsetDateTime::now_utc(), warn_days, already);
    for config in platforms {
        // A model that cannot be read is logged by the nodes' listing.
        let Ok(view) = model::load(config) else {
            continue;
        };
        let platform = &view.platform.name;
        for service in &view.platform.services {
            let Some(record) = records.cert(platform, &service.name).await? else {
                continue;
            };
            let ders: Vec<Vec<u8>> = std::iter::once(&record.leaf_pem)
                .chain(&record.chain_pem)
                .filter_map(|pem| certfleet_formats::pem::decode_blocks(pem).ok())
                .filter_map(|blocks| blocks.into_iter().next())
                .map(|block| block.der)
                .collect();
            builder.add_held_chain(
                ders.iter().map(Vec::as_slice),
                &Holder::agent_service(platform, &service.name),
            );
        }
    }
    Ok(builder.finish().entries)
}
