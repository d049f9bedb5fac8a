//! Router tests of the nodes page: it lists every node of the configured model with its
//! agent's last contact, and each service's state as `GET /api/nodes` gives it (a
//! reported failure with its hook and check, a service never reported as unseen), an
//! enrolled node's Revoke form, whose request removes the enrolment, and each node's
//! enrolment-token form when the server has an agent listener.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::{assert_csp_clean, login, send};
use crate::admin::platform_fixture::lab_config;
use crate::agents::records::{NodeRecord, Records};
use crate::http::router;
use crate::startup;
use axum::http::{Method, StatusCode};
use certfleet_api::agent::{CheckResult, DeploymentOutcome, DeploymentReport, HookResult};
use std::sync::Arc;
use time::OffsetDateTime;

#[tokio::test]
async fn the_nodes_page_lists_each_node_and_its_services_states() {
    let dir = tempfile::tempdir().unwrap();
    let (config, _paths) = lab_config(dir.path(), false);
    let state = startup::start(config).await.unwrap().state;
    let app = router(Arc::clone(&state));
    let (cookie, csrf) = login(&app, &state).await;
    let session = [("cookie", cookie.as_str())];

    let before = send(&app, Method::GET, "/ui/nodes", &session, None).await;
    assert_eq!(before.status, StatusCode::OK);
    let html = before.text();
    assert_csp_clean(&html);
    assert!(html.contains("lab / n1"), "{html}");
    assert!(html.contains("not enrolled"), "{html}");
    assert!(html.contains("no agent listener"), "{html}");
    assert!(!html.contains("node-token-form"), "{html}");
    assert!(
        html.contains("href=\"/ui/nodes\" aria-current=\"page\""),
        "{html}"
    );

    let records = Records::new(Arc::clone(&state.store));
    let seen = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    records
        .put(
            &["nodes", "lab", "n1"],
            &NodeRecord {
                enrolled_at: seen,
                last_seen: Some(seen),
                agent_version: Some("9.9.9".into()),
                last_revision: Some(4),
            },
        )
        .await
        .unwrap();
    let report = DeploymentReport {
        revision: 4,
        service: "web".into(),
        outcome: DeploymentOutcome::RolledBack,
        thumbprint: Some("0123456789abcdef0123456789abcdef".into()),
        outputs: Vec::new(),
        hook: Some(HookResult {
            name: "reload-web".into(),
            ok: false,
            exit_code: Some(3),
            timed_out: false,
            output: String::new(),
        }),
        check: Some(CheckResult {
            ok: false,
            detail: "10.0.0.1:443 refused the connection".into(),
        }),
        error: Some("the hook failed".into()),
        agent_version: "9.9.9".into(),
        time: seen,
    };
    records
        .put(&["reports", "lab", "n1", "web"], &report)
        .await
        .unwrap();

    let html = send(&app, Method::GET, "/ui/nodes", &session, None)
        .await
        .text();
    assert_csp_clean(&html);
    assert!(html.contains("enrolled, version 9.9.9"), "{html}");
    assert!(html.contains("2027-01-15T08:00:00Z"), "last seen: {html}");
    assert!(
        html.contains("<span class=\"badge deploy-failed\">failed</span>"),
        "{html}"
    );
    assert!(
        html.contains("<td data-label=\"Deployed\" class=\"mono\">0123456789abcdef</td>"),
        "the thumbprint's prefix: {html}"
    );
    assert!(html.contains("reload-web: failed (exit 3)"), "{html}");
    assert!(
        html.contains("failed: 10.0.0.1:443 refused the connection"),
        "{html}"
    );
    // The client service has no report yet.
    assert!(
        html.contains("<span class=\"badge deploy-unseen\">unseen</span>"),
        "{html}"
    );

    // The enrolled node can be revoked from the page (the form's request, with the
    // session's CSRF token); afterwards it is not enrolled and has no form.
    assert!(
        html.contains("class=\"node-revoke-form\" data-platform=\"lab\" data-node=\"n1\""),
        "{html}"
    );
    let revoked = send(
        &app,
        Method::DELETE,
        "/api/platforms/lab/nodes/n1",
        &[("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())],
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let html = send(&app, Method::GET, "/ui/nodes", &session, None)
        .await
        .text();
    assert!(!html.contains("node-revoke-form"), "{html}");
    assert!(html.contains("not enrolled"), "{html}");
}

#[tokio::test]
async fn with_an_agent_listener_each_node_gets_a_token_form_whose_request_makes_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut config, _paths) = lab_config(dir.path(), false);
    config.agents = Some(certfleet_config::AgentsConfig {
        listen: "127.0.0.1:8444".parse().unwrap(),
        names: vec!["agents.lab.example".into(), "127.0.0.1".into()],
        identity_days: 7,
        unseen_after: std::time::Duration::from_secs(900),
        rotation_stall_after: certfleet_config::DEFAULT_ROTATION_STALL_AFTER,
    });
    let state = startup::start(config).await.unwrap().state;
    // The agents CA, which the agent listener makes at its start.
    let repository =
        crate::cas::CaRepository::new(Arc::clone(&state.store), Arc::clone(&state.master_key));
    crate::agents::ca::AgentsCa::load_or_create(&repository)
        .await
        .unwrap();
    let app = router(Arc::clone(&state));
    let (cookie, csrf) = login(&app, &state).await;
    let html = send(
        &app,
        Method::GET,
        "/ui/nodes",
        &[("cookie", cookie.as_str())],
        None,
    )
    .await
    .text();
    assert_csp_clean(&html);
    assert!(!html.contains("no agent listener"), "{html}");
    assert!(
        html.contains(
            "class=\"node-token-form\" data-platform=\"lab\" data-node=\"n1\" data-server=\"https://agents.lab.example:8444\""
        ),
        "{html}"
    );
    // The form's request: the session's CSRF token and an empty JSON body.
    let made = send(
        &app,
        Method::POST,
        "/api/platforms/lab/nodes/n1/tokens",
        &[("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())],
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let answer: serde_json::Value = serde_json::from_str(&made.text()).unwrap();
    assert!(
        answer["token"].as_str().unwrap().starts_with("cfa1."),
        "{answer}"
    );
    assert_eq!(answer["node"], "n1");
}
