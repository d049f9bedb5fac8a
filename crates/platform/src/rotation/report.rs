//! The rotation part of plan's and apply's answers ([`RotationJson`]): the phase, what it
//! still has to write per node and service (from the evaluation's changes), one sentence
//! on what the next apply does, and whether the phase has stalled; and its text block.

use super::record::{Kind, Phase, Record};
use certfleet_api::admin::plan_apply::{Change, RotationJson, RotationRemaining, ServiceReport};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// A phase older than this is reported as stalled.
pub const STALLED_AFTER: Duration = Duration::days(7);

/// What the evaluation knows that the report needs.
pub struct Findings<'a> {
    /// The changes the phase's apply makes (or made).
    pub changes: &'a [Change],
    /// The services, for their nodes.
    pub services: &'a [ServiceReport],
    /// Services whose peers' trust certfleet cannot update (no truststore output).
    pub needs_cross_sign: Vec<String>,
    /// Now.
    pub now: OffsetDateTime,
}

/// The answer for `record` given the evaluation's `findings`.
pub fn rotation_json(record: &Record, findings: &Findings<'_>) -> RotationJson {
    let node_of: BTreeMap<&str, &str> = findings
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.node.as_str()))
        .collect();
    let mut remaining: Vec<RotationRemaining> = Vec::new();
    for change in findings.changes {
        let Some(path) = &change.path else { continue };
        let node = node_of.get(change.service.as_str()).copied().unwrap_or("");
        match remaining
            .iter_mut()
            .find(|r| r.service == change.service && r.node == node)
        {
            Some(entry) => {
                if !entry.outputs.contains(path) {
                    entry.outputs.push(path.clone())
                }
            }
            None => remaining.push(RotationRemaining {
                node: node.to_owned(),
                service: change.service.clone(),
                outputs: vec![path.clone()],
            }),
        }
    }
    let reloads: Vec<&str> = findings
        .changes
        .iter()
        .filter(|c| c.action == "reload")
        .map(|c| c.service.as_str())
        .collect();
    let mut next = next_sentence(record);
    if remaining.is_empty() && reloads.is_empty() {
        next.push_str(" Nothing is left to write: the next apply finishes this phase.");
    } else if remaining.is_empty() {
        next.push_str(&format!(
            " Only reloads are left ({}): the phase finishes once they succeed.",
            reloads.join(", ")
        ));
    }
    let stalled = OffsetDateTime::parse(&record.phase_started, &Rfc3339)
        .is_ok_and(|at| findings.now - at > STALLED_AFTER);
    RotationJson {
        kind: record.kind.name().into(),
        phase: record.phase.name().into(),
        phase_number: record.phase.number(),
        phases: 3,
        started: record.started.clone(),
        phase_started: record.phase_started.clone(),
        rollback_possible: rollback_possible(record),
        remaining,
        next,
        stalled,
        needs_cross_sign: if record.cross_signed {
            findings.needs_cross_sign.clone()
        } else {
            Vec::new()
        },
    }
}

/// Whether `--rollback` is accepted: in trust, and in reissue of a CA rotation (new keys
/// cannot be taken back, and in retire the old CA has started leaving truststores).
pub fn rollback_possible(record: &Record) -> bool {
    match record.phase {
        Phase::Trust => true,
        Phase::Reissue => record.kind != Kind::Keys,
        _ => false,
    }
}

/// What the next apply does in the record's phase.
fn next_sentence(record: &Record) -> String {
    let keys = record.kind == Kind::Keys;
    let which = if record.services.is_empty() {
        "every service the internal CA issues".to_owned()
    } else {
        record.services.join(", ")
    };
    match (record.phase, keys) {
        (Phase::Trust, false) => "The next apply adds the new CA to the truststores beside the old one; no certificate changes.".into(),
        (Phase::Reissue, false) if record.cross_signed => "The next apply issues the internal CA's certificates again from the new CA, under its copy signed by the old root (so peers that trust only the old root accept them); truststores keep both CAs.".into(),
        (Phase::Retire, false) if record.cross_signed => "The next apply issues the certificates again under the new root alone, removes the old CA from the truststores, moves its files to retired/ in the CA directory and ends the rotation.".into(),
        (Phase::Reissue, false) => "The next apply issues the internal CA's certificates again from the new CA; truststores keep both CAs.".into(),
        (Phase::Retire, false) => "The next apply removes the old CA from the truststores, moves its files to retired/ in the CA directory and ends the rotation.".into(),
        (Phase::RollbackReissue, false) => "The next apply issues the internal CA's certificates again from the old CA; truststores keep both CAs.".into(),
        (Phase::RollbackTrust, false) => "The next apply removes the new CA from the truststores, moves it to abandoned/ in the CA directory and ends the rollback.".into(),
        (Phase::Trust, true) => "The next apply changes no service's key yet: a self-signed service's new certificate is made and trusted by its peers beside the old one (the internal CA's services need nothing in this phase).".into(),
        (Phase::Reissue, true) => format!("The next apply makes new keys and certificates for {which}."),
        (Phase::Retire, true) => "The next apply drops the replaced self-signed certificates from the truststores and ends the keys rotation.".into(),
        (Phase::RollbackReissue, true) => "The next apply keeps the new keys (the old ones are gone) and moves on.".into(),
        (Phase::RollbackTrust, true) => "The next apply ends the rollback.".into(),
    }
}

/// The "Rotation" block that plan's and apply's text starts with.
pub fn rotation_text(rotation: &RotationJson) -> String {
    let mut text = format!(
        "Rotation: {} {}, phase {} of {} ({}), started {}, this phase since {}\n",
        rotation.kind,
        if rotation.kind == "keys" {
            "rotation"
        } else {
            "CA rotation"
        },
        rotation.phase_number,
        rotation.phases,
        rotation.phase,
        rotation.started,
        rotation.phase_started
    );
    if rotation.remaining.is_empty() {
        text.push_str("  nothing left to write in this phase\n");
    } else {
        text.push_str("  left to write in this phase:\n");
        for r in &rotation.remaining {
            text.push_str(&format!(
                "    node {}, service {}: {}\n",
                r.node,
                r.service,
                r.outputs.join(", ")
            ));
        }
    }
    text.push_str(&format!("  next: {}\n", rotation.next));
    if !rotation.needs_cross_sign.is_empty() {
        text.push_str(&format!(
            "  rely on the cross-signed CA until their trust holds the new root (certfleet writes no truststore for them): {}\n",
            rotation.needs_cross_sign.join(", ")
        ));
    }
    if rotation.rollback_possible {
        let command = if rotation.kind == "keys" {
            "keys"
        } else {
            "ca"
        };
        text.push_str(&format!(
            "  to go back instead: certfleet rotate {command} --rollback\n"
        ));
    }
    if rotation.stalled {
        text.push_str(&format!(
            "  warning: phase {} started more than 7 days ago ({}); run apply to finish it\n",
            rotation.phase, rotation.phase_started
        ));
    }
    text
}

/// The phases in a paragraph, for `certfleet rotate --help`.
pub const PHASES_HELP: &str = "A rotation takes three applies, one phase each; plan shows the phase and\nwhat is left. 1, trust: the truststores of the CA's peers get the new CA beside\nthe old one; no certificate changes. 2, reissue: certificates are issued again\nby the new CA (keys: with new keys); truststores still hold both. 3, retire:\nthe old CA leaves the truststores, its files move to retired/ in the CA\ndirectory and the new CA takes their place. An apply finishes its phase only\nwhen every file is written and every reload succeeded; a failed reload keeps\nthe phase and the next apply retries it. --rollback in phase 1 or 2 goes back\nto the old CA (phase 2, then 1); in phase 3 it is refused, the old CA having\nstarted to leave the truststores.";

#[cfg(test)]
mod tests {
    use super::*;

    fn change(service: &str, action: &str, path: Option<&str>) -> Change {
        Change {
            service: service.into(),
            action: action.into(),
            path: path.map(Into::into),
            reason: String::new(),
        }
    }

    fn service(name: &str, node: &str) -> ServiceReport {
        serde_json::from_value(serde_json::json!({
            "name": name, "kind": null, "node": node, "issuer": "internal", "usage": "server",
            "status": "ok", "cn": name, "subject": null, "sans": [], "not_after": null,
            "server_thumbprint": null, "client_thumbprint": null, "trusts": [], "trust": [],
            "allowed_client_thumbprints": [], "allowed_clients": [], "listeners": [],
            "outputs": [], "reload": null, "notes": []
        }))
        .unwrap()
    }

    #[test]
    fn what_is_left_is_grouped_per_node_and_service_and_an_old_phase_is_stalled() {
        let mut record = Record::start(Kind::Root, OffsetDateTime::UNIX_EPOCH, "s".into());
        record.enter(Phase::Reissue, OffsetDateTime::UNIX_EPOCH, "t".into());
        let changes = [
            change("data", "renew", None),
            change("data", "write", Some("/a/tls")),
            change("data", "write", Some("/a/trust.pem")),
            change("rec", "write", Some("/b/tls")),
            change("data", "reload", None),
        ];
        let services = [service("data", "n1"), service("rec", "n2")];
        let findings = Findings {
            changes: &changes,
            services: &services,
            needs_cross_sign: vec!["appliance".into()],
            now: OffsetDateTime::UNIX_EPOCH + Duration::days(8),
        };
        let json = rotation_json(&record, &findings);
        assert_eq!((json.phase_number, json.phases), (2, 3));
        assert_eq!(json.remaining.len(), 2);
        assert_eq!(json.remaining[0].node, "n1");
        assert_eq!(json.remaining[0].outputs, ["/a/tls", "/a/trust.pem"]);
        assert!(json.stalled && json.rollback_possible);
        assert!(json.needs_cross_sign.is_empty(), "not cross-signed");
        let text = rotation_text(&json);
        assert!(
            text.starts_with("Rotation: root CA rotation, phase 2 of 3 (reissue)"),
            "{text}"
        );
        assert!(
            text.contains("    node n2, service rec: /b/tls\n"),
            "{text}"
        );
        assert!(
            text.contains("warning: phase reissue started more than 7 days ago"),
            "{text}"
        );

        let quiet = Findings {
            changes: &[],
            services: &services,
            needs_cross_sign: Vec::new(),
            now: OffsetDateTime::UNIX_EPOCH,
        };
        let json = rotation_json(&record, &quiet);
        assert!(!json.stalled && json.remaining.is_empty());
        assert!(
            json.next.ends_with("the next apply finishes this phase."),
            "{}",
            json.next
        );
    }
}
