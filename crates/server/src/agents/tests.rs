//! Tests of the agent side through its router: enrolment with single-use tokens, the
//! refusal of another node's services, and assignment revisions that change exactly
//! when the assignment does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::ca::AgentsCa;
use super::listener::PeerChain;
use super::records::Records;
use super::routes::router;
use super::{tokens, Agents};
use crate::cas::CaRepository;
use crate::startup;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use certfleet_api::agent::{Assignment, CertificateState};
use certfleet_formats::pem;
use certfleet_pki::authority::init_ca;
use certfleet_pki::certs::{parse_single_certificate, to_pem};
use certfleet_pki::csr::new_csr;
use certfleet_pki::keys::KeyAlgorithm;
use http_body_util::BodyExt;
use rustls_pki_types::CertificateDer;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use time::OffsetDateTime;
use tower::ServiceExt;

pub(super) const MODEL: &str = r#"[platform]
name = "lab"
ca = "internal"
ca_dir = "ca"

[[node]]
name = "n1"
fqdn = "n1.lab.example.test"
ips = ["127.0.0.2"]

[[node]]
name = "n2"
fqdn = "n2.lab.example.test"

[[service]]
name = "web"
node = "n1"
usage = "server"
listeners = ["127.0.0.2:8443"]
hook = "reload-web"

[[service.output]]
format = "pem-pair"
path = "/opt/web/tls"

[[service.output]]
format = "pkcs12"
path = "/opt/web/web.p12"
alias = "web"
password = "changeit"

[[service]]
name = "db"
node = "n2"
usage = "both"

[[connection]]
from = "db"
to = "web"
"#;

pub(super) struct Lab {
    _dir: tempfile::TempDir,
    model: std::path::PathBuf,
    app: axum::Router,
    pub(super) agents: Arc<Agents>,
}

pub(super) fn write_ca(dir: &Path) {
    let ca = init_ca(
        "lab Root CA",
        KeyAlgorithm::EcdsaP256,
        365,
        Some("lab Issuing CA"),
    )
    .unwrap();
    let (icert, ikey) = ca.intermediate.unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("root.crt"), to_pem(&[ca.root_cert])).unwrap();
    std::fs::write(dir.join("root.key"), ca.root_key.to_pem().as_bytes()).unwrap();
    std::fs::write(dir.join("intermediate.crt"), to_pem(&[icert])).unwrap();
    std::fs::write(dir.join("intermediate.key"), ikey.to_pem().as_bytes()).unwrap();
}

async fn lab() -> Lab {
    lab_with(MODEL).await
}

/// A lab whose platform is `model_text` (platform `lab`, internal CA in `ca`).
pub(super) async fn lab_with(model_text: &str) -> Lab {
    lab_with_config(model_text, "").await
}

/// Like [`lab_with`], with `extra` at the head of the server's configuration.
pub(super) async fn lab_with_config(model_text: &str, extra: &str) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("lab.toml");
    std::fs::write(&model, model_text).unwrap();
    write_ca(&dir.path().join("ca"));
    let config_path = dir.path().join("certfleet.toml");
    std::fs::write(
        &config_path,
        format!(
            "{extra}\n[agents]\nlisten = \"127.0.0.1:0\"\n[[platform]]\nmodel = \"{}\"\nrun_reloads = false\n",
            model.display()
        ),
    )
    .unwrap();
    let config =
        certfleet_config::load(Some(&config_path), Some(&dir.path().join("data"))).unwrap();
    let started = startup::start(config).await.unwrap();
    let state = started.state;
    let repository = CaRepository::new(Arc::clone(&state.store), Arc::clone(&state.master_key));
    let ca = AgentsCa::load_or_create(&repository).await.unwrap();
    let agents = Arc::new(Agents::new(state, ca, 7));
    super::spawn_watches(&agents);
    Lab {
        _dir: dir,
        model,
        app: router(Arc::clone(&agents)),
        agents,
    }
}

pub(super) fn csr_pem() -> String {
    let csr = new_csr("x", &[], &[], true, KeyAlgorithm::EcdsaP256).unwrap();
    pem::encode("CERTIFICATE REQUEST", &csr.csr_der)
}

impl Lab {
    pub(super) async fn call(
        &self,
        method: Method,
        uri: &str,
        identity: Option<&CertificateDer<'static>>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let mut request = request
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        request
            .extensions_mut()
            .insert(PeerChain(identity.map(|cert| vec![cert.clone()])));
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
    }

    async fn token(&self, node: &str, ttl: u64) -> String {
        let made = tokens::create(
            self.agents.app.store.as_ref(),
            "lab",
            node,
            &self.agents.ca.pin(),
            ttl,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
        made.token.to_string()
    }

    pub(super) async fn enrol(&self, node: &str) -> CertificateDer<'static> {
        let token = self.token(node, 60).await;
        let (status, body) = self
            .call(
                Method::POST,
                "/agent/v1/enroll",
                None,
                Some(json!({"token": token, "csr_pem": csr_pem()})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["node"], node);
        parse_single_certificate(body["certificate_pem"].as_str().unwrap().as_bytes()).unwrap()
    }

    pub(super) async fn assignment(&self, identity: &CertificateDer<'static>) -> Assignment {
        let (status, body) = self
            .call(Method::GET, "/agent/v1/assignment", Some(identity), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).unwrap()
    }
}

#[tokio::test]
async fn tokens_enrol_their_own_node_once_and_not_after_they_expire() {
    let lab = lab().await;
    let token = lab.token("n1", 60).await;
    let enrol = |token: String| json!({"token": token, "csr_pem": csr_pem()});
    let (status, body) = lab
        .call(
            Method::POST,
            "/agent/v1/enroll",
            None,
            Some(enrol(token.clone())),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["platform"].as_str(), body["node"].as_str()),
        (Some("lab"), Some("n1"))
    );
    assert!(body["agents_ca_pem"]
        .as_str()
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    let (status, body) = lab
        .call(Method::POST, "/agent/v1/enroll", None, Some(enrol(token)))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "enrolment token already used");

    let expired = tokens::create(
        lab.agents.app.store.as_ref(),
        "lab",
        "n2",
        &lab.agents.ca.pin(),
        1,
        OffsetDateTime::now_utc() - time::Duration::seconds(5),
    )
    .await
    .unwrap();
    let (status, body) = lab
        .call(
            Method::POST,
            "/agent/v1/enroll",
            None,
            Some(enrol(expired.token.to_string())),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "enrolment token expired");
    let forged = format!("cfa1.{}.{}", "B".repeat(43), lab.agents.ca.pin());
    let (status, body) = lab
        .call(Method::POST, "/agent/v1/enroll", None, Some(enrol(forged)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unknown enrolment token");
}

#[tokio::test]
async fn a_node_gets_only_its_own_services_and_is_refused_another_nodes() {
    let lab = lab().await;
    let (status, _) = lab
        .call(Method::GET, "/agent/v1/assignment", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let n1 = lab.enrol("n1").await;
    let assignment = lab.assignment(&n1).await;
    assert_eq!(assignment.node, "n1");
    let names: Vec<&str> = assignment
        .services
        .iter()
        .map(|s| s.service.as_str())
        .collect();
    assert_eq!(names, ["web"]);
    let web = &assignment.services[0];
    assert_eq!(web.hook.as_deref(), Some("reload-web"));
    assert_eq!(web.checks[0].address, "127.0.0.2:8443");
    assert_eq!(web.checks[0].server_name, "n1.lab.example.test");
    assert_eq!(web.outputs[1].password.as_deref(), Some("changeit"));
    assert!(matches!(web.certificate, CertificateState::Wanted { .. }));

    for (uri, body) in [
        (
            "/agent/v1/certificates",
            json!({"service": "db", "csr_pem": csr_pem()}),
        ),
        (
            "/agent/v1/certificates",
            json!({"service": "nothing", "csr_pem": csr_pem()}),
        ),
    ] {
        let (status, answer) = lab.call(Method::POST, uri, Some(&n1), Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert!(answer["error"]
            .as_str()
            .unwrap()
            .contains("does not run on node n1"));
    }
    let report = json!({
        "revision": assignment.revision, "service": "db", "outcome": "current",
        "thumbprint": null, "outputs": [], "hook": null, "check": null, "error": null,
        "agent_version": "test", "time": "2026-01-01T00:00:00Z"
    });
    let (status, _) = lab
        .call(Method::POST, "/agent/v1/reports", Some(&n1), Some(report))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An identity whose enrolment record is gone is refused.
    let records = Records::new(Arc::clone(&lab.agents.app.store));
    let key = super::records::key(&["nodes", "lab", "n1"]).unwrap();
    assert!(records.store().delete(&key).await.unwrap());
    let (status, body) = lab
        .call(Method::GET, "/agent/v1/assignment", Some(&n1), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn the_revision_changes_exactly_when_the_assignment_does() {
    let lab = lab().await;
    let n1 = lab.enrol("n1").await;
    let first = lab.assignment(&n1).await;
    assert_eq!(lab.assignment(&n1).await, first, "nothing changed");

    // A CSR for web: the certificate is issued and the revision moves.
    let (status, body) = lab
        .call(
            Method::POST,
            "/agent/v1/certificates",
            Some(&n1),
            Some(json!({"service": "web", "csr_pem": csr_pem()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "issued", "{body}");
    let issued = lab.assignment(&n1).await;
    assert_ne!(issued.revision, first.revision);
    assert!(matches!(
        issued.services[0].certificate,
        CertificateState::Issued(_)
    ));
    assert_eq!(lab.assignment(&n1).await.revision, issued.revision);

    // A long poll with the current revision answers when the model changes.
    let edited = MODEL.replace("hook = \"reload-web\"", "hook = \"restart-web\"");
    let model = lab.model.clone();
    let writer = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        std::fs::write(model, edited).unwrap();
    });
    let uri = format!("/agent/v1/assignment?after={}", issued.revision);
    let (status, body) = lab.call(Method::GET, &uri, Some(&n1), None).await;
    writer.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let changed: Assignment = serde_json::from_value(body).unwrap();
    assert_eq!(changed.services[0].hook.as_deref(), Some("restart-web"));
    assert_ne!(changed.revision, issued.revision);
}
