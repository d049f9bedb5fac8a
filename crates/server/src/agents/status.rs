//! Every node's deployment state for `GET /api/nodes` and `certfleet nodes`: per service
//! the certificate it should have (issued for its node's key), the one its files hold
//! (as last reported), and where it stands.

use super::model;
use super::records::Records;
use certfleet_api::agent::{DeploymentOutcome, DeploymentReport};
use certfleet_api::nodes::{DeploymentState, NodeStatus, ServiceDeployment};
use certfleet_config::PlatformConfig;

/// Every node of every platform in `platforms`, by platform then node name. A model that
/// cannot be read is logged and left out.
pub async fn nodes(
    platforms: &[PlatformConfig],
    records: &Records,
) -> Result<Vec<NodeStatus>, String> {
    let mut all = Vec::new();
    for config in platforms {
        let view = match model::load(config) {
            Ok(view) => view,
            Err(err) => {
                tracing::warn!("GET /api/nodes: {}", err.message());
                continue;
            }
        };
        let platform = &view.platform.name;
        for node in &view.nodes {
            let record = records.node(platform, node).await?;
            let last_revision = record.as_ref().and_then(|r| r.last_revision);
            let mut services = Vec::new();
            let mut agent_version = record.as_ref().and_then(|r| r.agent_version.clone());
            for service in view.services_on(node) {
                let desired = records
                    .cert(platform, &service.name)
                    .await?
                    .map(|cert| cert.sha256);
                let report = records.report(platform, node, &service.name).await?;
                if agent_version.is_none() {
                    agent_version = report.as_ref().map(|r| r.agent_version.clone());
                }
                services.push(ServiceDeployment {
                    service: service.name.clone(),
                    state: state_of(desired.as_deref(), report.as_ref(), last_revision),
                    deployed: report.as_ref().and_then(|r| r.thumbprint.clone()),
                    last_report: report.as_ref().map(|r| r.time),
                    hook: report.as_ref().and_then(|r| r.hook.clone()),
                    check: report.as_ref().and_then(|r| r.check.clone()),
                    desired,
                });
            }
            all.push(NodeStatus {
                platform: platform.clone(),
                node: node.clone(),
                enrolled: record.is_some(),
                last_seen: record.as_ref().and_then(|r| r.last_seen),
                agent_version,
                services,
            });
        }
    }
    all.sort_by(|a, b| (&a.platform, &a.node).cmp(&(&b.platform, &b.node)));
    Ok(all)
}

/// Where a service stands: unseen without a report; failed when the last attempt was
/// rolled back or refused; current when its files hold the desired certificate and the
/// check passed; otherwise updating when its agent has fetched a newer assignment than
/// the one it last reported on, else behind.
pub fn state_of(
    desired: Option<&str>,
    report: Option<&DeploymentReport>,
    last_revision: Option<u64>,
) -> DeploymentState {
    let Some(report) = report else {
        return DeploymentState::Unseen;
    };
    match report.outcome {
        DeploymentOutcome::RolledBack | DeploymentOutcome::Refused => DeploymentState::Failed,
        DeploymentOutcome::Current
            if desired.is_some() && report.thumbprint.as_deref() == desired =>
        {
            DeploymentState::Current
        }
        _ if last_revision.is_some_and(|fetched| fetched != report.revision) => {
            DeploymentState::Updating
        }
        _ => DeploymentState::Behind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_api::agent::DeploymentOutcome;

    fn report(outcome: DeploymentOutcome, thumbprint: &str, revision: u64) -> DeploymentReport {
        DeploymentReport {
            revision,
            service: "web".into(),
            outcome,
            thumbprint: Some(thumbprint.into()),
            outputs: Vec::new(),
            hook: None,
            check: None,
            error: None,
            agent_version: "test".into(),
            time: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn states_follow_the_last_report() {
        use DeploymentOutcome as O;
        use DeploymentState as S;
        assert_eq!(state_of(Some("aa"), None, None), S::Unseen);
        let current = report(O::Current, "aa", 1);
        assert_eq!(state_of(Some("aa"), Some(&current), Some(1)), S::Current);
        // A new certificate was issued: behind until the agent fetches, then updating.
        assert_eq!(state_of(Some("bb"), Some(&current), Some(1)), S::Behind);
        assert_eq!(state_of(Some("bb"), Some(&current), Some(2)), S::Updating);
        for failed in [O::RolledBack, O::Refused] {
            assert_eq!(
                state_of(Some("aa"), Some(&report(failed, "aa", 1)), Some(1)),
                S::Failed
            );
        }
        assert_eq!(
            state_of(None, Some(&report(O::Waiting, "aa", 1)), Some(1)),
            S::Behind
        );
    }
}
