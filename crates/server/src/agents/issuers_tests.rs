//! Tests of self-signed and external-CA services through agents, and of revoking a
//! node: the certificates a node signs itself and an external CA's replies are kept
//! only when they are what the model asks for, every difference named; their peers
//! trust them; a revoked node is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::admin::revoke;
use super::external_admin::{import_reply, list_csrs};
use super::renewal::{request_renewal, REQUESTED_REASON};
use super::self_signed::CSR_REFUSED;
use super::tests::{lab_with, Lab};
use crate::http::auth::Actor;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use certfleet_api::agent::{CertificateProfile, CertificateState, ServiceAssignment};
use certfleet_api::nodes::CsrReply;
use certfleet_formats::pem;
use certfleet_pki::authority::{init_ca, Authority};
use certfleet_pki::certs::{parse_certificates, parse_single_certificate, to_pem};
use certfleet_pki::csr::csr_for_key;
use certfleet_pki::issue::{self_signed_for_key, LeafRequest};
use certfleet_pki::keys::{KeyAlgorithm, PrivateKey};
use certfleet_pki::names::san_set;
use certfleet_pki::profile::{leaf_params, validity, Usage};
use certfleet_pki::subject::SubjectAttributes;
use rustls_pki_types::CertificateDer;
use serde_json::{json, Value};
use std::time::Duration;

const MODEL: &str = r#"[platform]
name = "lab"
ca = "internal"
ca_dir = "ca"
org = "Lab"

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
ca = "self-signed"
usage = "server"
days = 30

[[service.output]]
format = "pem-pair"
path = "/opt/web/tls"

[[service]]
name = "api"
node = "n1"
ca = "external"
cn = "api.lab.example.test"
usage = "server"

[[service.output]]
format = "pem-pair"
path = "/opt/api/tls"

[[service]]
name = "db"
node = "n2"
usage = "both"

[[connection]]
from = "db"
to = "web"

[[connection]]
from = "db"
to = "api"
"#;

async fn answer<T: serde::Serialize>(
    result: Result<Json<T>, crate::http::errors::ApiError>,
) -> (StatusCode, Value) {
    match result {
        Ok(Json(value)) => (StatusCode::OK, serde_json::to_value(value).unwrap()),
        Err(err) => {
            let response = err.into_response();
            let status = response.status();
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            (status, serde_json::from_slice(&bytes).unwrap())
        }
    }
}

fn service<'a>(
    assignment: &'a certfleet_api::agent::Assignment,
    name: &str,
) -> &'a ServiceAssignment {
    assignment
        .services
        .iter()
        .find(|s| s.service == name)
        .unwrap()
}

fn leaf_request(profile: &CertificateProfile, key: &PrivateKey) -> LeafRequest {
    LeafRequest {
        cn: profile.cn.clone(),
        dns_names: profile.dns_names.clone(),
        ips: profile.ips.iter().map(|ip| ip.parse().unwrap()).collect(),
        usage: profile.usage.parse().unwrap(),
        days: profile.days,
        key: key.algorithm(),
    }
}

fn subject(organization: &str) -> SubjectAttributes {
    SubjectAttributes {
        organization: Some(organization.into()),
        ..SubjectAttributes::default()
    }
}

async fn send_certificate(
    lab: &Lab,
    identity: &CertificateDer<'static>,
    body: Value,
) -> (StatusCode, Value) {
    lab.call(
        Method::POST,
        "/agent/v1/certificates",
        Some(identity),
        Some(body),
    )
    .await
}

/// The PEM certificates `name` trusts in `assignment`.
fn trusted(assignment: &certfleet_api::agent::Assignment, name: &str) -> Vec<String> {
    service(assignment, name)
        .trust
        .iter()
        .map(|t| t.pem.clone())
        .collect()
}

/// Waits (up to a minute) until `n2`'s db trusts `pem`.
async fn until_db_trusts(lab: &Lab, n2: &CertificateDer<'static>, pem: &str) {
    for _ in 0..600 {
        if trusted(&lab.assignment(n2).await, "db")
            .iter()
            .any(|p| p == pem)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("db never came to trust {pem}");
}

#[tokio::test]
async fn a_self_signed_certificate_made_on_the_node_is_kept_only_as_the_model_asks_and_trusted_by_peers(
) {
    let lab = lab_with(MODEL).await;
    let n1 = lab.enrol("n1").await;
    let n2 = lab.enrol("n2").await;
    let web = service(&lab.assignment(&n1).await, "web").clone();
    assert!(matches!(web.certificate, CertificateState::Wanted { .. }));
    let profile = web.profile.clone().unwrap();
    assert_eq!(profile.issuer, "self-signed");
    assert_eq!(profile.cn, "n1.lab.example.test");
    assert_eq!(profile.days, 30);
    assert_eq!(profile.subject.organization.as_deref(), Some("Lab"));

    // A CSR alone is not enough: the node must sign.
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = csr_for_key("n1.lab.example.test", &subject("Lab"), &[], &[], &key).unwrap();
    let (status, body) = send_certificate(
        &lab,
        &n1,
        json!({"service": "web", "csr_pem": pem::encode("CERTIFICATE REQUEST", &csr)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["reason"], CSR_REFUSED);

    // Other names, another organisation and a longer life: every difference is named.
    let mut wrong = leaf_request(&profile, &key);
    wrong.dns_names.push("extra.lab.example.test".into());
    wrong.days = 400;
    let cert = self_signed_for_key(&wrong, &subject("Other"), &key).unwrap();
    let (status, body) = send_certificate(
        &lab,
        &n1,
        json!({"service": "web", "certificate_pem": to_pem(&[cert])}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let error = body["error"].as_str().unwrap();
    for expected in [
        "SAN DNS:extra.lab.example.test is in the certificate but not in the model",
        "subject O: the certificate has Other, the model asks for Lab",
        "the model asks for 30 days",
    ] {
        assert!(error.contains(expected), "{error}");
    }

    // A certificate some CA signed is not self-signed.
    let ca = init_ca("Elsewhere", KeyAlgorithm::EcdsaP256, 60, None).unwrap();
    let authority = Authority::new(ca.root_cert.clone(), ca.root_key, vec![]).unwrap();
    let request = leaf_request(&profile, &key);
    let sans = san_set(&request.cn, &request.dns_names, &request.ips).unwrap();
    let params = leaf_params(
        &request.cn,
        &subject("Lab"),
        &sans,
        Usage::Server,
        KeyAlgorithm::EcdsaP256,
        validity(30, None).unwrap(),
    )
    .unwrap();
    let foreign = authority.sign_public_key(&params, &key.spki_der()).unwrap();
    let (status, body) = send_certificate(
        &lab,
        &n1,
        json!({"service": "web", "certificate_pem": to_pem(&[foreign])}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("issued by CN=Elsewhere"),
        "{body}"
    );

    let cert = self_signed_for_key(&leaf_request(&profile, &key), &subject("Lab"), &key).unwrap();
    let leaf_pem = to_pem(std::slice::from_ref(&cert));
    let (status, body) = send_certificate(
        &lab,
        &n1,
        json!({"service": "web", "certificate_pem": leaf_pem}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "issued");
    assert_eq!(body["chain_pem"], json!([]));
    let now = lab.assignment(&n1).await;
    let CertificateState::Issued(issued) = &service(&now, "web").certificate else {
        panic!("web is not issued");
    };
    assert_eq!(issued.leaf_pem, leaf_pem);
    until_db_trusts(&lab, &n2, &leaf_pem).await;

    // A renewal asked for makes it wanted again in the service's turn.
    assert!(request_renewal(&lab.agents.records, "lab", "web", false)
        .await
        .unwrap());
    match &service(&lab.assignment(&n1).await, "web").certificate {
        CertificateState::Wanted { reason } => assert_eq!(reason, REQUESTED_REASON),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_external_cas_reply_is_checked_against_the_nodes_csr_and_the_model() {
    let lab = lab_with(MODEL).await;
    let app = || State(std::sync::Arc::clone(&lab.agents.app));
    let n1 = lab.enrol("n1").await;
    let n2 = lab.enrol("n2").await;
    let api = service(&lab.assignment(&n1).await, "api").clone();
    let profile = api.profile.clone().unwrap();
    assert_eq!(profile.issuer, "external");
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let ips: Vec<_> = profile.ips.iter().map(|ip| ip.parse().unwrap()).collect();
    let csr = csr_for_key(&profile.cn, &subject("Lab"), &profile.dns_names, &ips, &key).unwrap();
    let (status, body) = send_certificate(
        &lab,
        &n1,
        json!({"service": "api", "csr_pem": pem::encode("CERTIFICATE REQUEST", &csr)}),
    )
    .await;
    assert_eq!(
        (status, &body["state"]),
        (StatusCode::OK, &json!("awaiting"))
    );

    let (status, listed) = answer(list_csrs(app(), Path("lab".into())).await).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let pending = &listed["csrs"][0];
    assert_eq!(
        (&pending["service"], &pending["node"]),
        (&json!("api"), &json!("n1"))
    );
    assert!(pending["subject"]
        .as_str()
        .unwrap()
        .contains("CN=api.lab.example.test"));
    assert!(pending["sans"]
        .as_array()
        .unwrap()
        .contains(&json!("DNS:api.lab.example.test")));

    let ca = init_ca("Outside Root", KeyAlgorithm::EcdsaP256, 60, None).unwrap();
    let authority = Authority::new(ca.root_cert.clone(), ca.root_key, vec![]).unwrap();
    let sign = |cn: &str, spki: &[u8]| {
        let sans = san_set(cn, &profile.dns_names, &ips).unwrap();
        let params = leaf_params(
            cn,
            &subject("Lab"),
            &sans,
            Usage::Server,
            KeyAlgorithm::EcdsaP256,
            validity(90, None).unwrap(),
        )
        .unwrap();
        let leaf = authority.sign_public_key(&params, spki).unwrap();
        to_pem(&[leaf, ca.root_cert.clone()])
    };
    let reply = |certificate_pem: String| {
        Ok(Json(CsrReply {
            certificate_pem,
            chain_pem: None,
        }))
    };
    let path = || Path(("lab".to_owned(), "api".to_owned()));

    // Another key and another name: both differences are listed.
    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let wrong = sign("other.lab.example.test", &other.spki_der());
    let (status, body) =
        answer(import_reply(app(), Actor("admin"), path(), reply(wrong)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let error = body["error"].as_str().unwrap();
    for expected in [
        "carries a different public key from the CSR",
        "subject CN: the certificate has other.lab.example.test, the model asks for api.lab.example.test",
        "SAN DNS:api.lab.example.test is in the model but not in the certificate",
    ] {
        assert!(error.contains(expected), "{error}");
    }

    let good = sign("api.lab.example.test", &key.spki_der());
    let (status, body) =
        answer(import_reply(app(), Actor("admin"), path(), reply(good.clone())).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["node"], &body["chain_length"]),
        (&json!("n1"), &json!(1))
    );
    let now = lab.assignment(&n1).await;
    let CertificateState::Issued(issued) = &service(&now, "api").certificate else {
        panic!("api is not issued");
    };
    let leaf = parse_single_certificate(issued.leaf_pem.as_bytes()).unwrap();
    assert_eq!(
        leaf.as_ref(),
        parse_certificates(good.as_bytes()).unwrap()[0].as_ref()
    );
    let root_pem = to_pem(std::slice::from_ref(&ca.root_cert));
    assert_eq!(issued.chain_pem, vec![root_pem.clone()]);
    until_db_trusts(&lab, &n2, &root_pem).await;

    // The CSR is answered: nothing is listed, and a second reply has nothing to answer.
    let (_, listed) = answer(list_csrs(app(), Path("lab".into())).await).await;
    assert_eq!(listed["csrs"], json!([]));
    let (status, body) =
        answer(import_reply(app(), Actor("admin"), path(), reply(good)).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let audit = certfleet_store::audit::list(lab.agents.app.store.as_ref())
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|r| r.action == "service.reply" && r.object == "service lab/api"));

    // A renewal: the node is asked for a new CSR in its turn and keeps its certificate
    // while the CA has it; the next reply replaces it.
    assert!(request_renewal(&lab.agents.records, "lab", "api", false)
        .await
        .unwrap());
    match &service(&lab.assignment(&n1).await, "api").certificate {
        CertificateState::Wanted { reason } => assert_eq!(reason, REQUESTED_REASON),
        other => panic!("{other:?}"),
    }
    let (status, body) = send_certificate(
        &lab,
        &n1,
        json!({"service": "api", "csr_pem": pem::encode("CERTIFICATE REQUEST", &csr)}),
    )
    .await;
    assert_eq!(
        (status, &body["state"]),
        (StatusCode::OK, &json!("awaiting"))
    );
    assert!(matches!(
        service(&lab.assignment(&n1).await, "api").certificate,
        CertificateState::Awaiting { .. }
    ));
    let renewed = sign("api.lab.example.test", &key.spki_der());
    let (status, body) =
        answer(import_reply(app(), Actor("admin"), path(), reply(renewed)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let now = lab.assignment(&n1).await;
    let CertificateState::Issued(again) = &service(&now, "api").certificate else {
        panic!("api is not issued after the renewal");
    };
    assert_ne!(again.sha256, issued.sha256);
}

#[tokio::test]
async fn a_revoked_node_is_refused_and_an_unknown_one_is_not_found() {
    let lab = lab_with(MODEL).await;
    let app = || State(std::sync::Arc::clone(&lab.agents.app));
    let n1 = lab.enrol("n1").await;
    lab.assignment(&n1).await;
    let path = |node: &str| Path(("lab".to_owned(), node.to_owned()));
    let (status, body) = answer(revoke(app(), Actor("admin"), path("n1")).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["node"], "n1");
    let (status, body) = lab
        .call(Method::GET, "/agent/v1/assignment", Some(&n1), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"].as_str().unwrap().contains("not enrolled"));

    let (status, body) = answer(revoke(app(), Actor("admin"), path("n1")).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("node n1 of platform lab is not enrolled"));
    let (status, _) = answer(
        revoke(
            app(),
            Actor("admin"),
            Path(("nowhere".to_owned(), "n1".to_owned())),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = answer(revoke(app(), Actor("admin"), path("n\u{1}/../x")).await).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a name no node can have: {body}"
    );
    let audit = certfleet_store::audit::list(lab.agents.app.store.as_ref())
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|r| r.action == "node.revoke" && r.object == "node lab/n1"));
}
