//! Tests of a certificate shared by several nodes through agents: each of its nodes is
//! told `Awaiting` with the reason, with no files, hook or checks, and a CSR for it is
//! answered alike (nothing is signed); a peer's trust is unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::shared::SHARED_REASON;
use super::tests::{csr_pem, lab_with};
use axum::http::{Method, StatusCode};
use certfleet_api::agent::CertificateState;
use serde_json::json;

const MODEL: &str = r#"[platform]
name = "lab"
ca = "internal"
ca_dir = "ca"

[[node]]
name = "n1"
fqdn = "n1.lab.example.test"

[[node]]
name = "n2"
fqdn = "n2.lab.example.test"

[[node]]
name = "n3"
fqdn = "n3.lab.example.test"

[[service]]
name = "db"
nodes = ["n1", "n2"]
shared_certificate = true
hook = "restart-db"
listeners = ["127.0.0.1:9042"]

[[service.output]]
format = "pem-pair"
path = "/opt/{node}/db/tls"

[[service]]
name = "app"
node = "n3"

[[connection]]
from = "app"
to = "db"
"#;

#[tokio::test]
async fn every_node_of_a_shared_certificate_is_told_apply_deploys_it() {
    let lab = lab_with(MODEL).await;
    for node in ["n1", "n2"] {
        let identity = lab.enrol(node).await;
        let assignment = lab.assignment(&identity).await;
        let db = assignment
            .services
            .iter()
            .find(|s| s.service == "db")
            .unwrap_or_else(|| panic!("{node} is not told about db: {assignment:?}"));
        match &db.certificate {
            CertificateState::Awaiting { reason } => assert_eq!(reason, SHARED_REASON),
            other => panic!("{node}: {other:?}"),
        }
        assert!(db.outputs.is_empty() && db.checks.is_empty() && db.hook.is_none());

        // A CSR for it is not signed: the key would have to leave the node.
        let (status, body) = lab
            .call(
                Method::POST,
                "/agent/v1/certificates",
                Some(&identity),
                Some(json!({"service": "db", "csr_pem": csr_pem()})),
            )
            .await;
        if node == "n1" {
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["reason"], SHARED_REASON, "{body}");
        } else {
            // The CSR route knows a service by its first node only.
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        }
    }
    // Its peer is served as usual and still trusts the internal CA for it.
    let n3 = lab.enrol("n3").await;
    let assignment = lab.assignment(&n3).await;
    let app = assignment
        .services
        .iter()
        .find(|s| s.service == "app")
        .unwrap();
    assert!(
        matches!(app.certificate, CertificateState::Wanted { .. }),
        "{app:?}"
    );
    assert!(!app.trust.is_empty(), "app trusts nothing for db: {app:?}");
}
