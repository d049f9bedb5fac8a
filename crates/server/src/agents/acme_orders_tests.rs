//! Tests of ACME services through the agent router: the 409 of a server without
//! `[acme] email`, a CSR naming other names than the model's, and an order whose ACME
//! server does not answer, whose failure and back-off the assignment shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::acme_orders::{model_names, AcmeOrderRecord};
use super::tests::{lab_with_config, Lab};
use axum::http::{Method, StatusCode};
use certfleet_api::agent::CertificateState;
use certfleet_formats::pem;
use certfleet_pki::csr::new_csr;
use certfleet_pki::keys::KeyAlgorithm;
use rustls_pki_types::CertificateDer;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const MODEL: &str = r#"[platform]
name = "lab"
ca = "acme"

[[node]]
name = "n1"
fqdn = "n1.lab.example.test"

[[service]]
name = "web"
node = "n1"
cn = "www.lab.example.test"
san = ["lab.example.test"]

[[service.output]]
format = "pem-pair"
path = "/opt/web/tls"
"#;

/// A server with `acme` as its `[acme]` block, the ACME model as its platform, and its
/// agents' watches and orders running.
async fn acme_lab(acme: &str) -> Lab {
    lab_with_config(MODEL, acme).await
}

fn csr_for(cn: &str, dns: &[&str]) -> String {
    let dns: Vec<String> = dns.iter().map(|d| (*d).to_owned()).collect();
    let csr = new_csr(cn, &dns, &[], false, KeyAlgorithm::EcdsaP256).unwrap();
    pem::encode("CERTIFICATE REQUEST", &csr.csr_der)
}

async fn web_state(lab: &Lab, identity: &CertificateDer<'static>) -> CertificateState {
    lab.assignment(identity).await.services[0]
        .certificate
        .clone()
}

async fn send_csr(
    lab: &Lab,
    identity: &CertificateDer<'static>,
    csr: String,
) -> (StatusCode, Value) {
    let body = json!({"service": "web", "csr_pem": csr});
    lab.call(
        Method::POST,
        "/agent/v1/certificates",
        Some(identity),
        Some(body),
    )
    .await
}

#[test]
fn the_model_names_are_its_cn_and_sans_once_each_in_lower_case() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.toml");
    std::fs::write(
        &path,
        MODEL.replace("san = [", "san = [\"WWW.lab.example.test\", "),
    )
    .unwrap();
    let platform = certfleet_platform::engine::load_model(&path).unwrap();
    assert_eq!(
        model_names(&platform.services[0]),
        ["lab.example.test", "www.lab.example.test"]
    );
}

#[tokio::test]
async fn without_an_acme_email_a_csr_is_refused_naming_the_block() {
    let lab = acme_lab("").await;
    let n1 = lab.enrol("n1").await;
    assert!(matches!(
        web_state(&lab, &n1).await,
        CertificateState::Wanted { .. }
    ));
    let csr = csr_for("www.lab.example.test", &["lab.example.test"]);
    let (status, body) = send_csr(&lab, &n1, csr).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("[acme]") && error.contains("email"),
        "{error}"
    );
    assert!(error.contains("service web of platform lab"), "{error}");
}

#[tokio::test]
async fn an_order_the_acme_server_does_not_answer_shows_its_error_and_back_off() {
    // Nothing listens on port 1: every attempt fails at once.
    let lab = acme_lab(
        "[acme]\ndirectory = \"https://127.0.0.1:1/dir\"\nemail = \"pki@lab.example.test\"\n",
    )
    .await;
    let n1 = lab.enrol("n1").await;

    // A CSR must name exactly the model's names.
    let (status, body) = send_csr(&lab, &n1, csr_for("web", &[])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("the CSR names web")
            && error.contains("lab.example.test, www.lab.example.test"),
        "{error}"
    );

    let csr = csr_for("www.lab.example.test", &["lab.example.test"]);
    let (status, body) = send_csr(&lab, &n1, csr.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "awaiting", "{body}");
    assert!(
        body["reason"].as_str().unwrap().contains("is under way"),
        "{body}"
    );

    // The attempt fails; the assignment says why and when the next one comes.
    let deadline = Instant::now() + Duration::from_secs(60);
    let reason = loop {
        if let CertificateState::Awaiting { reason } = web_state(&lab, &n1).await {
            if reason.contains("failed") {
                break reason;
            }
        }
        assert!(Instant::now() < deadline, "no failure recorded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(reason.contains(" time(s)"), "{reason}");
    assert!(reason.contains("next attempt at"), "{reason}");
    assert!(reason.contains("the ACME server refused"), "{reason}");

    // The CSR is kept for the next attempt, its back-off with it.
    let (record, _) = lab
        .agents
        .records
        .get::<AcmeOrderRecord>(&["acme", "lab", "web"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.csr_pem, csr);
    assert!(record.failures >= 1, "{record:?}");
    assert!(record.next_attempt.is_some(), "{record:?}");
    // The same CSR again does not start the order over.
    let (status, body) = send_csr(&lab, &n1, csr).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["reason"].as_str().unwrap().contains("failed"),
        "{body}"
    );
}

#[tokio::test]
async fn a_kept_csr_is_taken_up_by_whichever_server_runs_the_orders() {
    // A record another server (or this one before a restart) kept: the loop finds it in
    // the store and tries it, with no request from the node.
    let lab = acme_lab(
        "[acme]\ndirectory = \"https://127.0.0.1:1/dir\"\nemail = \"pki@lab.example.test\"\n",
    )
    .await;
    let snapshot = lab.agents.models.snapshot("lab").unwrap();
    let web = snapshot.view.platform.service("web").unwrap();
    let kept = AcmeOrderRecord {
        csr_pem: csr_for("www.lab.example.test", &["lab.example.test"]),
        request: super::model::request_of(web),
        names: model_names(web),
        received_at: OffsetDateTime::now_utc(),
        failures: 0,
        last_error: None,
        next_attempt: None,
    };
    let segments = ["acme", "lab", "web"];
    lab.agents.records.put(&segments, &kept).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (record, _) = lab
            .agents
            .records
            .get::<AcmeOrderRecord>(&segments)
            .await
            .unwrap()
            .unwrap();
        if record.failures >= 1 {
            assert_eq!(record.csr_pem, kept.csr_pem);
            assert!(record.last_error.is_some(), "{record:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the kept CSR was never tried");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
