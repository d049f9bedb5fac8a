//! The `deployment_failed` alert: a report whose hook or check failed, or whose agent
//! refused or rolled back, names the platform, node, service and what went wrong. Raised
//! once per failure (an agent that reports the same failure again raises nothing new),
//! and left to the rollout's `rollout_halted` alert when that failure halted its group
//! ([`super::rollout_settle`]), which says the same and more.

use super::records::Records;
use super::rollout;
use certfleet_api::agent::{DeploymentOutcome, DeploymentReport};
use certfleet_monitor::alerts::{AlertBoard, AlertKind};

/// What failed in `report`, in words; `None` when nothing did.
pub fn failure(report: &DeploymentReport) -> Option<String> {
    let mut parts = Vec::new();
    match report.outcome {
        DeploymentOutcome::RolledBack => parts.push("rolled back".to_owned()),
        DeploymentOutcome::Refused => parts.push("refused".to_owned()),
        DeploymentOutcome::Current | DeploymentOutcome::Waiting => {}
    }
    if let Some(hook) = report.hook.as_ref().filter(|hook| !hook.ok) {
        let how = match (hook.timed_out, hook.exit_code) {
            (true, _) => "was killed at its time limit".to_owned(),
            (false, Some(code)) => format!("exited with {code}"),
            (false, None) => "did not exit normally".to_owned(),
        };
        parts.push(format!("hook {} {how}", hook.name));
    }
    if let Some(check) = report.check.as_ref().filter(|check| !check.ok) {
        parts.push(format!("check failed: {}", check.detail));
    }
    if parts.is_empty() {
        return None;
    }
    if let Some(error) = &report.error {
        parts.push(error.clone());
    }
    Some(parts.join("; "))
}

/// Whether `report` is a failure not already reported by `previous` (the same service's
/// report before it).
pub fn new_failure(previous: Option<&DeploymentReport>, report: &DeploymentReport) -> bool {
    let Some(what) = failure(report) else {
        return false;
    };
    previous.is_none_or(|previous| {
        failure(previous).as_deref() != Some(what.as_str())
            || previous.revision != report.revision
            || previous.thumbprint != report.thumbprint
    })
}

/// Raises `deployment_failed` for `report` of `node` of `platform` when it is a new
/// failure and its rollout group `group` was not halted by it. A store that cannot be
/// read is logged: the alert is raised then.
pub async fn raise_if_failed(
    records: &Records,
    alerts: &AlertBoard,
    (platform, node, group): (&str, &str, &str),
    previous: Option<&DeploymentReport>,
    report: &DeploymentReport,
) {
    if !new_failure(previous, report) {
        return;
    }
    let Some(what) = failure(report) else {
        return;
    };
    match rollout::load(records, platform, group).await {
        Ok(Some((record, _))) => {
            let halted_by_it = record
                .halted
                .is_some_and(|halt| halt.node == node && halt.service == report.service);
            if halted_by_it {
                return;
            }
        }
        Ok(None) => {}
        Err(err) => tracing::warn!("agents: reading rollout group {group}: {err}"),
    }
    alerts.raise(
        AlertKind::DeploymentFailed,
        None,
        format!(
            "node {node} of platform {platform} failed to deploy service {} (revision {}): {what}",
            report.service, report.revision
        ),
        1,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_api::agent::{CheckResult, HookResult};

    fn report(outcome: DeploymentOutcome) -> DeploymentReport {
        DeploymentReport {
            revision: 3,
            service: "web".into(),
            outcome,
            thumbprint: Some("aa".into()),
            outputs: Vec::new(),
            hook: None,
            check: None,
            error: None,
            agent_version: "test".into(),
            time: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn failed_hooks_and_checks_are_failures_once() {
        assert_eq!(failure(&report(DeploymentOutcome::Current)), None);
        assert_eq!(failure(&report(DeploymentOutcome::Waiting)), None);
        let mut failed = report(DeploymentOutcome::RolledBack);
        failed.hook = Some(HookResult {
            name: "reload-web".into(),
            ok: false,
            exit_code: Some(3),
            timed_out: false,
            output: String::new(),
        });
        failed.check = Some(CheckResult {
            ok: false,
            detail: "127.0.0.2:8443 served bb (expected aa)".into(),
        });
        let what = failure(&failed).unwrap();
        for part in ["rolled back", "hook reload-web exited with 3", "served bb"] {
            assert!(what.contains(part), "{part}: {what}");
        }
        assert!(new_failure(None, &failed));
        assert!(
            !new_failure(Some(&failed), &failed),
            "the same failure again"
        );
        let mut next = failed.clone();
        next.revision = 4;
        assert!(
            new_failure(Some(&failed), &next),
            "a later attempt failed too"
        );
        assert!(!new_failure(
            Some(&failed),
            &report(DeploymentOutcome::Current)
        ));
    }
}
