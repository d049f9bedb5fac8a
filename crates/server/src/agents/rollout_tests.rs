//! Tests of staged rollouts through the agent router: three nodes of one service group
//! renew one at a time, each next one after the previous reported the new certificate
//! current; a rolled-back deployment halts the group and raises an alert; resuming the
//! group lets the next node renew.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::renewal::{request_renewal, DUE_REASON, REQUESTED_REASON};
use super::rollout::{load, resume};
use super::tests::{csr_pem, lab_with, Lab};
use axum::http::{Method, StatusCode};
use certfleet_api::agent::CertificateState;
use certfleet_monitor::alerts::AlertKind;
use rustls_pki_types::CertificateDer;
use serde_json::json;
use time::OffsetDateTime;

fn model() -> String {
    let mut text = String::from("[platform]\nname = \"lab\"\nca = \"internal\"\nca_dir = \"ca\"\n");
    for n in 1..=3 {
        text.push_str(&format!(
            "\n[[node]]\nname = \"n{n}\"\nfqdn = \"n{n}.lab.example.test\"\n"
        ));
    }
    for n in 1..=3 {
        text.push_str(&format!(
            "\n[[service]]\nname = \"web-{n}\"\nnode = \"n{n}\"\nkind = \"nginx\"\nusage = \"server\"\n"
        ));
    }
    text
}

/// Where web-N's certificate stands in n N's assignment.
async fn state(lab: &Lab, identity: &CertificateDer<'static>) -> CertificateState {
    lab.assignment(identity).await.services[0]
        .certificate
        .clone()
}

/// Sends a CSR for web-N; the new thumbprint.
async fn issue(lab: &Lab, identity: &CertificateDer<'static>, n: usize) -> String {
    let (status, body) = lab
        .call(
            Method::POST,
            "/agent/v1/certificates",
            Some(identity),
            Some(json!({"service": format!("web-{n}"), "csr_pem": csr_pem()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["sha256"].as_str().unwrap().to_owned()
}

async fn report(
    lab: &Lab,
    identity: &CertificateDer<'static>,
    n: usize,
    outcome: &str,
    thumbprint: &str,
) {
    let revision = lab.assignment(identity).await.revision;
    let body = json!({
        "revision": revision, "service": format!("web-{n}"), "outcome": outcome,
        "thumbprint": thumbprint, "outputs": [], "hook": null, "check": null,
        "error": if outcome == "current" { None } else { Some("hook reload-web exited with status 1") },
        "agent_version": "test",
        "time": OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap(),
    });
    let (status, answer) = lab
        .call(
            Method::POST,
            "/agent/v1/reports",
            Some(identity),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
}

/// The indexes (0-based) of the nodes told `Wanted`.
async fn wanted(lab: &Lab, nodes: &[CertificateDer<'static>]) -> Vec<usize> {
    let mut list = Vec::new();
    for (i, identity) in nodes.iter().enumerate() {
        if let CertificateState::Wanted { reason } = state(lab, identity).await {
            assert_eq!(reason, REQUESTED_REASON);
            list.push(i);
        }
    }
    list
}

async fn audit_actions(lab: &Lab) -> Vec<(String, String)> {
    certfleet_store::audit::list(lab.agents.app.store.as_ref())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.actor == "agent-rollout")
        .map(|r| (r.action, r.object))
        .collect()
}

#[tokio::test]
async fn a_group_renews_one_node_at_a_time_halts_on_a_rollback_and_resumes() {
    let lab = lab_with(&model()).await;
    let mut nodes = Vec::new();
    let mut first = Vec::new();
    for n in 1..=3 {
        let identity = lab.enrol(&format!("n{n}")).await;
        // A first certificate is not held back: there is none to keep.
        assert!(matches!(
            state(&lab, &identity).await,
            CertificateState::Wanted { .. }
        ));
        let sha = issue(&lab, &identity, n).await;
        report(&lab, &identity, n, "current", &sha).await;
        first.push(sha);
        nodes.push(identity);
    }
    assert!(wanted(&lab, &nodes).await.is_empty());

    for n in 1..=3 {
        assert!(
            request_renewal(&lab.agents.records, "lab", &format!("web-{n}"), false)
                .await
                .unwrap()
        );
    }
    // One node at a time; the others keep their certificate.
    let turn = wanted(&lab, &nodes).await;
    assert_eq!(turn.len(), 1, "{turn:?}");
    let a = turn[0];
    for (i, identity) in nodes.iter().enumerate().filter(|(i, _)| *i != a) {
        match state(&lab, identity).await {
            CertificateState::Issued(cert) => assert_eq!(cert.sha256, first[i]),
            other => panic!("node {i}: {other:?}"),
        }
    }
    let renewed = issue(&lab, &nodes[a], a + 1).await;
    assert_ne!(renewed, first[a]);
    // Issued but not yet reported: still nobody else's turn.
    assert!(wanted(&lab, &nodes).await.is_empty());
    report(&lab, &nodes[a], a + 1, "current", &renewed).await;

    let turn = wanted(&lab, &nodes).await;
    assert_eq!(turn.len(), 1, "{turn:?}");
    let b = turn[0];
    assert_ne!(b, a);
    let failing = issue(&lab, &nodes[b], b + 1).await;
    report(&lab, &nodes[b], b + 1, "rolled_back", &first[b]).await;

    // Halted: the third node keeps its certificate, an alert names the failure.
    assert!(wanted(&lab, &nodes).await.is_empty());
    let (record, _) = load(&lab.agents.records, "lab", "nginx")
        .await
        .unwrap()
        .unwrap();
    let halt = record.halted.unwrap();
    assert_eq!(halt.service, format!("web-{}", b + 1));
    let alerts = lab.agents.app.alerts.recent();
    let alert = alerts
        .iter()
        .find(|a| a.kind == AlertKind::RolloutHalted)
        .expect("a rollout_halted alert");
    for part in [
        "group nginx",
        "platform lab",
        &format!("node n{}", b + 1),
        &format!("service web-{}", b + 1),
        "exited with status 1",
    ] {
        assert!(alert.message.contains(part), "{part}: {}", alert.message);
    }
    assert_ne!(failing, first[b]);

    // Resumed: the third node gets its turn.
    assert!(resume(&lab.agents.records, "lab", "nginx")
        .await
        .unwrap()
        .is_some());
    let turn = wanted(&lab, &nodes).await;
    let c = 3 - a - b;
    assert_eq!(turn, [c]);

    let actions = audit_actions(&lab).await;
    let expected = [
        ("rollout.turn", a),
        ("rollout.done", a),
        ("rollout.turn", b),
        ("rollout.halt", b),
        ("rollout.turn", c),
    ]
    .map(|(action, i)| (action.to_owned(), format!("service lab/web-{}", i + 1)));
    // The audit list is oldest first: the order the decisions were taken in.
    assert_eq!(actions, expected, "audit records of the rollout");
}

#[tokio::test]
async fn a_certificate_past_its_due_point_is_wanted_with_the_reason() {
    let lab = lab_with(&model()).await;
    let identity = lab.enrol("n1").await;
    issue(&lab, &identity, 1).await;
    // Make the stored certificate older: its due point has passed.
    lab.agents
        .records
        .update::<super::records::CertRecord>(&["certs", "lab", "web-1"], |record| {
            let lifetime = record.not_after - record.not_before;
            record.not_before -= lifetime * 0.7;
            record.not_after -= lifetime * 0.7;
        })
        .await
        .unwrap();
    match state(&lab, &identity).await {
        CertificateState::Wanted { reason } => assert_eq!(reason, DUE_REASON),
        other => panic!("{other:?}"),
    }
}

/// A window on the day after tomorrow (UTC): `now` is outside it.
fn closed_window() -> String {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let today = OffsetDateTime::now_utc()
        .weekday()
        .number_days_from_monday() as usize;
    format!("{} 00:00-24:00", DAYS[(today + 2) % 7])
}

#[tokio::test]
async fn a_renewal_waits_for_the_maintenance_window_unless_asked_for_now() {
    let windowed = model().replace(
        "name = \"n1\"\n",
        &format!("name = \"n1\"\nmaintenance = [\"{}\"]\n", closed_window()),
    );
    let lab = lab_with(&windowed).await;
    let n1 = lab.enrol("n1").await;
    // A first certificate does not wait for the window.
    assert!(matches!(
        state(&lab, &n1).await,
        CertificateState::Wanted { .. }
    ));
    let first = issue(&lab, &n1, 1).await;
    report(&lab, &n1, 1, "current", &first).await;

    // Due, but outside the node's window: the node keeps its certificate.
    assert!(request_renewal(&lab.agents.records, "lab", "web-1", false)
        .await
        .unwrap());
    match state(&lab, &n1).await {
        CertificateState::Issued(cert) => assert_eq!(cert.sha256, first),
        other => panic!("{other:?}"),
    }
    // Asked for now: it renews at once.
    assert!(request_renewal(&lab.agents.records, "lab", "web-1", true)
        .await
        .unwrap());
    match state(&lab, &n1).await {
        CertificateState::Wanted { reason } => assert_eq!(reason, REQUESTED_REASON),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_certificate_in_its_warning_window_does_not_wait_for_the_maintenance_window() {
    // 10 days of validity: inside the server's 14-day warning window from the start.
    let windowed = model()
        .replace("ca_dir = \"ca\"\n", "ca_dir = \"ca\"\ndays = 10\n")
        .replace(
            "name = \"n1\"\n",
            &format!("name = \"n1\"\nmaintenance = [\"{}\"]\n", closed_window()),
        );
    let lab = lab_with(&windowed).await;
    let n1 = lab.enrol("n1").await;
    let first = issue(&lab, &n1, 1).await;
    report(&lab, &n1, 1, "current", &first).await;
    assert!(request_renewal(&lab.agents.records, "lab", "web-1", false)
        .await
        .unwrap());
    assert!(matches!(
        state(&lab, &n1).await,
        CertificateState::Wanted { .. }
    ));
}
