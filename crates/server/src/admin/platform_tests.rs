//! Router tests of plan and apply through the API: a configured model is listed,
//! previewed without a write, applied (files, reload, audit), then current; an unknown
//! platform is 404, a broken model 422 naming its line, and `run_reloads = false`
//! leaves the reload pending.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::api_routes;
use super::platform_fixture::{lab_config, LabPaths};
use crate::http::assemble;
use crate::http::sessions::Sessions;
use crate::startup;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

struct Lab {
    _dir: tempfile::TempDir,
    app: Router,
    token: String,
    paths: LabPaths,
}

/// A server whose configuration names the lab model.
async fn lab(run_reloads: bool) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let (config, paths) = lab_config(dir.path(), run_reloads);
    let state = startup::start(config).await.unwrap().state;
    let token = state.admin_token.to_string();
    let app = assemble(
        api_routes(),
        Arc::clone(&state),
        Sessions::new(Duration::from_secs(600)),
    );
    Lab {
        _dir: dir,
        app,
        token,
        paths,
    }
}

impl Lab {
    async fn call(&self, method: Method, uri: &str) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::empty())
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn reload_lines(&self) -> usize {
        std::fs::read_to_string(&self.paths.marker)
            .map(|text| text.lines().count())
            .unwrap_or(0)
    }
}

fn service<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no service {name} in {report}"))
}

#[tokio::test]
async fn a_configured_platform_is_previewed_applied_audited_and_then_current() {
    let lab = lab(true).await;
    let (status, list) = lab.call(Method::GET, "/api/platforms").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list[0]["name"], "lab");
    assert_eq!(list[0]["run_reloads"], true);

    // The preview plans and writes nothing.
    let (status, preview) = lab.call(Method::GET, "/api/platforms/lab").await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let actions: Vec<&str> = preview["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"issue"), "{actions:?}");
    assert!(actions.contains(&"write"), "{actions:?}");
    assert!(
        !lab.paths.root.exists(),
        "the preview wrote under {}",
        lab.paths.root.display()
    );

    let (status, applied) = lab.call(Method::POST, "/api/platforms/lab/apply").await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert!(applied["files_written"].as_u64().unwrap() >= 5, "{applied}");
    assert_eq!(applied["reloads"][0]["service"], "web");
    assert_eq!(applied["reloads"][0]["ok"], true);
    assert_eq!(lab.reload_lines(), 1);
    let crt = lab.paths.root.join("opt/web/tls.crt");
    let pem = std::fs::read_to_string(&crt).unwrap();
    assert!(pem.contains("BEGIN CERTIFICATE"), "{}", crt.display());
    assert!(lab.paths.root.join("opt/agent/agent.p12").is_file());
    // The derived trust: agent trusts web's issuer, and web (mTLS) trusts agent's.
    let web = service(&applied, "web");
    let agent = service(&applied, "agent");
    assert_eq!(web["allowed_clients"][0]["service"], "agent");
    assert_eq!(
        web["allowed_client_thumbprints"][0],
        agent["client_thumbprint"]
    );
    assert!(agent["trust"][0]["because"][0]
        .as_str()
        .unwrap()
        .contains("web"));
    assert!(!applied.to_string().contains("PRIVATE KEY"));

    // The status (and so the metrics and the expiry watcher) now watches the platform's
    // certificates: each service's, and the internal CA's root and intermediate.
    let (_, status) = lab.call(Method::GET, "/api/status").await;
    let watched = status["certificates"].as_array().unwrap();
    for name in ["web", "agent"] {
        let thumbprint = service(&applied, name)["server_thumbprint"]
            .as_str()
            .or_else(|| service(&applied, name)["client_thumbprint"].as_str())
            .unwrap()
            .to_owned();
        let entry = watched
            .iter()
            .find(|c| c["sha1_thumbprint"] == thumbprint.as_str())
            .unwrap_or_else(|| panic!("{name} ({thumbprint}) is not in the status: {status}"));
        assert_eq!(entry["used_by"], format!("platform lab service {name}"));
        assert_eq!(entry["role"], "leaf");
    }
    for role in ["intermediate", "root"] {
        assert!(
            watched
                .iter()
                .any(|c| c["role"] == role
                    && c["used_by"].as_str().unwrap().starts_with("platform lab")),
            "no platform {role} in the status: {status}"
        );
    }

    let (_, audit) = lab.call(Method::GET, "/api/audit").await;
    let entry = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "platform.apply")
        .unwrap_or_else(|| panic!("no platform.apply in {audit}"))
        .clone();
    assert_eq!(entry["actor"], "admin-token");
    assert!(
        entry["detail"].as_str().unwrap().contains("1 ok"),
        "{entry}"
    );

    // Now current: plan finds nothing and a second apply writes and reloads nothing.
    let (status, plan) = lab.call(Method::POST, "/api/platforms/lab/plan").await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["changes"], Value::Array(vec![]), "{plan}");
    let (status, again) = lab.call(Method::POST, "/api/platforms/lab/apply").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["files_written"], 0, "{again}");
    assert_eq!(lab.reload_lines(), 1);
}

#[tokio::test]
async fn an_unknown_platform_is_404_and_a_broken_model_422_naming_the_line() {
    let lab = lab(true).await;
    let (status, body) = lab.call(Method::POST, "/api/platforms/nope/apply").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let text = std::fs::read_to_string(&lab.paths.model).unwrap();
    std::fs::write(
        &lab.paths.model,
        text.replace("usage = \"client\"", "usage = \"sometimes\""),
    )
    .unwrap();
    for (method, uri) in [
        (Method::GET, "/api/platforms/lab"),
        (Method::POST, "/api/platforms/lab/plan"),
        (Method::POST, "/api/platforms/lab/apply"),
    ] {
        let (status, body) = lab.call(method.clone(), uri).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {uri}: {body}"
        );
        let message = body["error"].as_str().unwrap();
        assert!(message.contains("lab.toml:"), "{message}");
        assert!(message.contains("usage"), "{message}");
    }
    assert!(
        !lab.paths.root.exists(),
        "a refused apply wrote under the root"
    );
    assert_eq!(lab.reload_lines(), 0);
}

#[tokio::test]
async fn with_run_reloads_false_the_reload_is_skipped_and_stays_pending() {
    let lab = lab(false).await;
    let (status, applied) = lab.call(Method::POST, "/api/platforms/lab/apply").await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied["reloads"][0]["skipped"], true, "{applied}");
    assert_eq!(applied["reloads"][0]["ok"], false, "{applied}");
    assert_eq!(lab.reload_lines(), 0);
    let (_, plan) = lab.call(Method::POST, "/api/platforms/lab/plan").await;
    let pending: Vec<&Value> = plan["changes"].as_array().unwrap().iter().collect();
    assert_eq!(pending.len(), 1, "{plan}");
    assert_eq!(pending[0]["action"], "reload");
    assert_eq!(pending[0]["service"], "web");
}
