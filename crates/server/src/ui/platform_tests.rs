//! Router tests of the platform pages: the list names the configured model; a
//! platform's page draws its derived trust graph (a box per service, a two-headed
//! arrow for the mutual-TLS connection), lists the pending changes and offers plan and
//! apply; after an apply it shows the thumbprints and nothing pending; a broken model
//! is reported on the page; an unknown platform is 404. A rotation the server carries
//! out is shown on the page, refused to apply, and rolled back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::{assert_csp_clean, login, send};
use crate::admin::platform_fixture::lab_config;
use crate::http::router;
use crate::startup;
use axum::http::{Method, StatusCode};
use std::sync::Arc;

#[tokio::test]
async fn the_platform_page_draws_the_derived_trust_graph_and_follows_an_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (config, paths) = lab_config(dir.path(), true);
    let state = startup::start(config).await.unwrap().state;
    let app = router(Arc::clone(&state));
    let (cookie, csrf) = login(&app, &state).await;
    let session = [("cookie", cookie.as_str())];

    let list = send(&app, Method::GET, "/ui/platforms", &session, None).await;
    assert_eq!(list.status, StatusCode::OK);
    let html = list.text();
    assert_csp_clean(&html);
    assert!(html.contains("href=\"/ui/platforms/lab\""), "{html}");
    assert!(html.contains(&paths.model.display().to_string()), "{html}");

    let page = send(&app, Method::GET, "/ui/platforms/lab", &session, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_csp_clean(&html);
    // One box per service, one arrow for the connection, heads at both ends (mTLS).
    assert_eq!(html.matches("<g class=\"node ").count(), 2, "{html}");
    assert_eq!(html.matches("<g class=\"edge mtls\">").count(), 1, "{html}");
    assert!(
        html.contains("marker-start=\"url(#arrow-start)\""),
        "{html}"
    );
    assert!(
        html.contains("agent connects to web with mutual TLS"),
        "{html}"
    );
    assert!(html.contains("state-pending"), "before an apply: {html}");
    assert!(html.contains("id=\"platform-run-form\""), "{html}");
    assert!(
        html.contains("<td data-label=\"Action\">issue</td>"),
        "{html}"
    );
    assert!(!paths.root.exists(), "the page wrote under the root");

    let applied = send(
        &app,
        Method::POST,
        "/api/platforms/lab/apply",
        &[("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())],
        None,
    )
    .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text());
    let report = applied.json();
    let agent_client = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "agent")
        .unwrap()["client_thumbprint"]
        .as_str()
        .unwrap()
        .to_owned();

    let html = send(&app, Method::GET, "/ui/platforms/lab", &session, None)
        .await
        .text();
    assert!(html.contains("Nothing: the platform is current."), "{html}");
    assert!(html.contains(&agent_client), "web accepts agent: {html}");
    assert!(html.contains("state-ok"), "{html}");
    assert!(!html.contains("PRIVATE KEY"));

    // The apply is in the audit log as the UI session's.
    let audit = send(&app, Method::GET, "/ui/audit", &session, None)
        .await
        .text();
    assert!(audit.contains("platform.apply"), "{audit}");
    assert!(audit.contains("ui-session"), "{audit}");

    // A model broken on disk is reported on the page, naming its line.
    let text = std::fs::read_to_string(&paths.model).unwrap();
    std::fs::write(&paths.model, text.replace("mtls = true", "mtls = \"yes\"")).unwrap();
    let html = send(&app, Method::GET, "/ui/platforms/lab", &session, None)
        .await
        .text();
    assert!(html.contains("The model cannot be planned"), "{html}");
    assert!(html.contains("lab.toml:"), "{html}");

    let missing = send(&app, Method::GET, "/ui/platforms/nope", &session, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rotation_the_server_carries_out_is_shown_on_the_page_refused_by_apply_and_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let (config, _paths) = lab_config(dir.path(), true);
    let state = startup::start(config).await.unwrap().state;
    let app = router(Arc::clone(&state));
    let (cookie, csrf) = login(&app, &state).await;
    let session = [("cookie", cookie.as_str())];
    let post = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let rotation = "/api/platforms/lab/rotation";
    let applied = send(&app, Method::POST, "/api/platforms/lab/apply", &post, None).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text());
    let none = send(&app, Method::GET, rotation, &session, None).await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.text());
    assert!(none.json().get("rotation").is_none(), "{}", none.text());

    let ca = serde_json::json!({"kind": "ca"});
    let started = send(&app, Method::POST, rotation, &post, Some(ca.clone())).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    let status = started.json();
    assert_eq!(status["rotation"]["phase"], "trust", "{status}");
    assert_eq!(status["driven_by"], "server", "{status}");
    // One rotation at a time, and apply leaves the server's alone.
    let again = send(&app, Method::POST, rotation, &post, Some(ca)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    assert!(
        again.text().contains("phase 1 of 3 (trust)"),
        "{}",
        again.text()
    );
    let refused = send(&app, Method::POST, "/api/platforms/lab/apply", &post, None).await;
    assert!(
        refused.text().contains("driven by the certfleet server"),
        "{}",
        refused.text()
    );

    let html = send(&app, Method::GET, "/ui/platforms/lab", &session, None)
        .await
        .text();
    assert_csp_clean(&html);
    assert!(
        html.contains("root rotation, phase 1 of 3 (trust)"),
        "{html}"
    );
    assert!(
        html.contains("carried out by the server through the agents"),
        "{html}"
    );

    // A keys rollback of a CA rotation is refused; a CA rollback goes back.
    let keys = serde_json::json!({"kind": "keys", "rollback": true});
    let wrong = send(&app, Method::POST, rotation, &post, Some(keys)).await;
    assert_eq!(wrong.status, StatusCode::CONFLICT, "{}", wrong.text());
    let back = serde_json::json!({"kind": "ca", "rollback": true});
    let back = send(&app, Method::POST, rotation, &post, Some(back)).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text());
    assert_eq!(back.json()["rotation"]["phase"], "rollback-trust");
    let audit = send(&app, Method::GET, "/ui/audit", &session, None)
        .await
        .text();
    assert!(audit.contains("rotation.start"), "{audit}");
    assert!(audit.contains("rotation.rollback"), "{audit}");
}
