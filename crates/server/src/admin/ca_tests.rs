//! Router tests of the CA and CSR endpoints: create, conflict, bad input naming the
//! field, show, distribute, sign under the policy, inspect, and issue for a domain that
//! the hub then serves; no answer carries a private key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::api_routes;
use crate::http::assemble;
use crate::http::sessions::Sessions;
use crate::startup;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use certfleet_pki::csr::new_csr;
use certfleet_pki::keys::KeyAlgorithm;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

struct Client {
    app: axum::Router,
    token: String,
}

impl Client {
    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, String) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.token));
        let body = match body {
            Some(value) => {
                request = request.header("content-type", "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(!text.contains("PRIVATE KEY"), "{text}");
        (status, text)
    }

    async fn json(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, text) = self.call(method, uri, body).await;
        (status, serde_json::from_str(&text).unwrap())
    }
}

fn csr_pem(cn: &str) -> String {
    let made = new_csr(cn, &[], &[], false, KeyAlgorithm::EcdsaP256).unwrap();
    certfleet_formats::pem::encode("CERTIFICATE REQUEST", &made.csr_der)
}

#[tokio::test]
async fn cas_are_made_shown_distributed_and_sign() {
    let dir = tempfile::tempdir().unwrap();
    let config = certfleet_config::load(None, Some(dir.path())).unwrap();
    let state = startup::start(config).await.unwrap().state;
    let client = Client {
        app: assemble(
            api_routes(),
            Arc::clone(&state),
            Sessions::new(Duration::from_secs(60)),
        ),
        token: state.admin_token.to_string(),
    };

    let (status, body) = client.json(Method::GET, "/api/cas", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
    for (bad, field) in [
        (
            json!({"name": "Bad Name", "cn": "Root", "days": 30}),
            "name",
        ),
        (json!({"name": "internal", "cn": "", "days": 30}), "cn"),
        (json!({"name": "internal", "cn": "Root", "days": 0}), "days"),
        (
            json!({"name": "internal", "cn": "Root", "days": 30, "key": "rsa1024"}),
            "key",
        ),
        (
            json!({"name": "internal", "cn": "Root", "days": 30, "policy": {"allowed_domains": ["not a name"]}}),
            "policy.allowed_domains",
        ),
    ] {
        let (status, body) = client
            .json(Method::POST, "/api/cas", Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(field),
            "{bad}: {body}"
        );
    }
    let create = json!({
        "name": "internal", "cn": "Internal Root", "days": 365,
        "intermediate_cn": "Internal Issuing",
        "policy": {"allowed_domains": ["example.test"]},
    });
    let (status, ca) = client
        .json(Method::POST, "/api/cas", Some(create.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ca}");
    assert_eq!(ca["subject"], "CN=Internal Issuing");
    assert_eq!(ca["issuer"], "CN=Internal Root");
    assert_eq!(ca["key_algorithm"], "ecdsa-p256");
    assert_eq!(ca["root_sha1_thumbprint"].as_str().unwrap().len(), 40);
    let (status, _) = client.json(Method::POST, "/api/cas", Some(create)).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, shown) = client.json(Method::GET, "/api/cas/internal", None).await;
    assert_eq!((status, &shown), (StatusCode::OK, &ca));
    let (status, listed) = client.json(Method::GET, "/api/cas", None).await;
    assert_eq!((status, listed), (StatusCode::OK, json!([ca])));
    let (status, _) = client.json(Method::GET, "/api/cas/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = client.json(Method::GET, "/api/cas/a.b", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, pem) = client
        .call(Method::GET, "/api/cas/internal/certificate", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 2, "{pem}");

    let csr = csr_pem("api.example.test");
    let (status, described) = client
        .json(Method::POST, "/api/csrs/inspect", Some(json!({"csr": csr})))
        .await;
    assert_eq!(status, StatusCode::OK, "{described}");
    assert_eq!(described["subject"], "CN=api.example.test");
    assert_eq!(described["signature_valid"], true);
    let (status, body) = client
        .json(
            Method::POST,
            "/api/csrs/inspect",
            Some(json!({"csr": "junk"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().starts_with("csr"), "{body}");

    let sign = json!({"csr": csr, "usage": "both", "days": 30});
    let (status, signed) = client
        .json(Method::POST, "/api/cas/internal/sign", Some(sign))
        .await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert_eq!(signed["subject"], "CN=api.example.test");
    assert_eq!(
        signed["chain"]
            .as_str()
            .unwrap()
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );
    let foreign = json!({"csr": csr_pem("api.other.test")});
    let (status, body) = client
        .json(Method::POST, "/api/cas/internal/sign", Some(foreign))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("outside the allowed domains"),
        "{body}"
    );
    let (status, _) = client
        .json(
            Method::POST,
            "/api/cas/nope/sign",
            Some(json!({"csr": csr})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = client
        .json(
            Method::POST,
            "/api/domains",
            Some(json!({"name": "www.example.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let issue = "/api/domains/www.example.test/certificate/issue";
    let (status, body) = client
        .json(Method::POST, issue, Some(json!({"ca": "nope"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().starts_with("ca:"), "{body}");
    let (status, domain) = client
        .json(
            Method::POST,
            issue,
            Some(json!({"ca": "internal", "days": 30})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{domain}");
    assert_eq!(domain["certificate"]["auto_issued"], true, "{domain}");
    assert_eq!(domain["certificate"]["issuing_ca"], "internal", "{domain}");
    assert!(domain["acme"]["renew_at"].is_string(), "{domain}");
    for (bad, field) in [
        (
            json!({"ca": "internal", "days": 1, "seconds": 60}),
            "seconds:",
        ),
        (json!({"ca": "internal", "seconds": 59}), "seconds:"),
        (json!({"ca": "internal", "days": 0}), "days:"),
    ] {
        let (status, body) = client.json(Method::POST, issue, Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error"].as_str().unwrap().starts_with(field), "{body}");
    }
    let (status, issued) = client
        .json(Method::GET, "/api/cas/internal/issued", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert_eq!(issued[0]["action"], "ca.issue", "{issued}");
    assert_eq!(issued[1]["action"], "ca.sign", "{issued}");
    let (status, _) = client.json(Method::GET, "/api/cas/nope/issued", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let thumbprint = domain["certificate"]["sha1_thumbprint"].as_str().unwrap();
    let resolution = state
        .hub
        .resolve(Some("www.example.test"), state.default_role());
    let resolution = serde_json::to_value(&resolution).unwrap();
    assert!(resolution.to_string().contains(thumbprint), "{resolution}");
    let (status, _) = client
        .json(
            Method::POST,
            "/api/domains/none.example.test/certificate/issue",
            Some(json!({"ca": "internal"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let audit = certfleet_store::audit::list(state.store.as_ref())
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|r| r.action.as_str()).collect();
    for action in ["ca.create", "ca.sign", "ca.issue", "domain.issue"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
}
