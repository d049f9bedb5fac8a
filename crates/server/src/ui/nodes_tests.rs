//! Router tests of the nodes page: it lists every node of the configured model with its
//! agent's last contact, and each service's state as `GET /api/nodes` gives it (a
//! reported failure with its hook and check, a service never reported as unseen), and
//! an enrolled node's Revoke form, whose request removes the enrolment.

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
