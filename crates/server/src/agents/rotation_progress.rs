//! Where each node stands in the current phase of a rotation the server drives. A node
//! is done when, for every service on it, its last report is of the assignment it gets
//! now (the revision that carries the phase's trust and certificates) with the files
//! current and the hook and check passed, and the certificate that assignment carries is
//! the phase's: from the CA the phase signs with (CA rotations) or no longer the one a
//! keys rotation replaces. A node whose last report was rolled back or refused has
//! failed; the others wait.

use super::assignment;
use super::errors::AgentError;
use super::model_cache::Snapshot;
use super::Agents;
use certfleet_api::admin::plan_apply::RotationNode;
use certfleet_api::agent::{CertificateState, DeploymentOutcome, ServiceAssignment};
use certfleet_pki::certs::to_pem;
use certfleet_platform::rotation::record::Kind;
use certfleet_platform::spec::IssuerKind;
use time::OffsetDateTime;

/// `done`, `waiting` or `failed`.
pub const DONE: &str = "done";
/// See [`DONE`].
pub const WAITING: &str = "waiting";
/// See [`DONE`].
pub const FAILED: &str = "failed";

/// Every node of `snapshot`'s model that runs a service, in model order.
pub async fn nodes(
    agents: &Agents,
    snapshot: &Snapshot,
    certs_generation: u64,
) -> Result<Vec<RotationNode>, AgentError> {
    let view = &snapshot.view;
    let now = OffsetDateTime::now_utc();
    let warn = time::Duration::days(i64::from(agents.app.config.warn_days));
    let mut all = Vec::new();
    for node in &view.nodes {
        if view.services_on(node).next().is_none() {
            continue;
        }
        let wanted = assignment::evaluate(
            snapshot,
            node,
            &agents.records,
            &agents.app.master_key,
            (now, warn),
            certs_generation,
        )
        .await?;
        let mut state = DONE;
        let mut details = Vec::new();
        for service in &wanted.services {
            let report = agents
                .records
                .report(&view.platform.name, node, &service.service)
                .await
                .map_err(AgentError::internal)?;
            let failed = report.as_ref().filter(|r| {
                matches!(
                    r.outcome,
                    DeploymentOutcome::RolledBack | DeploymentOutcome::Refused
                )
            });
            if let Some(report) = failed {
                state = FAILED;
                details.push(format!(
                    "{}: {}",
                    service.service,
                    report
                        .error
                        .clone()
                        .unwrap_or_else(|| "the deployment failed".into())
                ));
                continue;
            }
            if let Some(why) = phase_certificate_missing(snapshot, service) {
                state = if state == FAILED { FAILED } else { WAITING };
                details.push(format!("{}: {why}", service.service));
                continue;
            }
            let reported = report.as_ref().is_some_and(|r| {
                r.revision == wanted.revision && r.outcome == DeploymentOutcome::Current
            });
            if !reported {
                state = if state == FAILED { FAILED } else { WAITING };
                details.push(format!(
                    "{}: not yet reported deployed with this phase's trust and certificate",
                    service.service
                ));
            }
        }
        all.push(RotationNode {
            node: node.clone(),
            state: state.to_owned(),
            detail: details.join("; "),
        });
    }
    Ok(all)
}

/// Why `service`'s assignment does not carry the phase's certificate yet, if it does not.
fn phase_certificate_missing(snapshot: &Snapshot, service: &ServiceAssignment) -> Option<String> {
    let view = &snapshot.view;
    let record = view.rotation.as_ref()?;
    let internal = view
        .platform
        .service(&service.service)
        .is_some_and(|s| s.issuer == IssuerKind::Internal);
    if !internal {
        return None;
    }
    let issued = match &service.certificate {
        CertificateState::Issued(issued) => issued,
        CertificateState::Wanted { reason } => {
            return Some(format!("a new certificate is being issued ({reason})"))
        }
        CertificateState::Awaiting { reason } => return Some(reason.clone()),
    };
    if record.kind == Kind::Keys {
        return view
            .rekey_reason(&service.service, &issued.leaf_pem)
            .map(|_| "waits for its turn to get a new key".to_owned());
    }
    let chain: Vec<String> = match &snapshot.chain {
        Ok(Some(chain)) => chain
            .iter()
            .map(|c| to_pem(std::slice::from_ref(c)))
            .collect(),
        _ => return Some("the internal CA cannot be read".into()),
    };
    (issued.chain_pem != chain)
        .then(|| "waits for its turn to get a certificate from the phase's CA".to_owned())
}
