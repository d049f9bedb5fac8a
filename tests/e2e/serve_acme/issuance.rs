//! Issuance against Pebble: through HTTP-01 and TLS-ALPN-01, for twenty domains at once,
//! and a manual certificate ending automatic renewal.

use super::Scene;
use crate::support::pki::self_signed;
use crate::support::run::arg;
use serde_json::Value;
use std::time::Duration;

#[test]
fn three_domains_get_certificates_through_http01_and_a_manual_upload_ends_renewal() {
    let scene = Scene::start("http-01", None);
    let names = [
        "shop.example.test",
        "api.example.test",
        "media.example.test",
    ];
    for name in names {
        scene.enable(name);
    }
    for name in names {
        let view = scene.wait_issued(name, None, Duration::from_secs(90));
        scene.assert_served_and_verified(name, &view);
        assert!(view["acme"]["renew_at"].is_string(), "{view}");
        assert_eq!(view["acme"]["failures"], 0, "{view}");
    }
    // Pebble validated by fetching the tokens from the HTTP listener.
    let log = scene.pebble.log();
    assert!(
        log.contains("Attempting to validate w/ HTTP"),
        "no HTTP-01 validation:
{log}"
    );
    let served = scene.server.logs();
    assert!(served.contains("answered HTTP-01"), "{served}");

    // A manual certificate ends automatic renewal for that domain.
    let dir = crate::support::run::TempDir::new();
    let manual = self_signed(dir.path(), "shop.example.test");
    let answer = scene.server.domain_ok(&[
        "set-cert",
        "shop.example.test",
        arg(&manual.merged()),
        "--json",
    ]);
    let warnings = answer["warnings"].to_string();
    assert!(warnings.contains("automatic renewal stops"), "{answer}");
    let view = scene.show("shop.example.test");
    assert_eq!(
        view["certificate"]["auto_issued"],
        Value::Bool(false),
        "{view}"
    );
    assert_eq!(view["acme"]["renew_at"], Value::Null, "{view}");
    // And it is not replaced by a new order.
    std::thread::sleep(Duration::from_secs(5));
    let later = scene.show("shop.example.test");
    assert_eq!(later["certificate"], view["certificate"], "{later}");
}

#[test]
fn tls_alpn01_is_answered_on_the_https_listener() {
    let scene = Scene::start("tls-alpn-01", None);
    scene.enable("alpn.example.test");
    let view = scene.wait_issued("alpn.example.test", None, Duration::from_secs(90));
    scene.assert_served_and_verified("alpn.example.test", &view);
    let served = scene.server.logs();
    assert!(
        served.contains("answered a TLS-ALPN-01 validation for alpn.example.test"),
        "no TLS-ALPN-01 validation reached the HTTPS listener:\n{served}"
    );
    assert!(!served.contains("answered HTTP-01"), "{served}");
}

#[test]
fn twenty_domains_enabled_at_once_all_get_certificates() {
    let scene = Scene::start("http-01", None);
    let names: Vec<String> = (1..=20)
        .map(|n| format!("tenant{n:02}.example.test"))
        .collect();
    for name in &names {
        scene.enable(name);
    }
    for name in &names {
        let view = scene.wait_issued(name, None, Duration::from_secs(180));
        assert_eq!(
            view["certificate"]["sans"][0],
            format!("DNS:{name}"),
            "{view}"
        );
    }
    scene.assert_served_and_verified(&names[19], &scene.show(&names[19]));
}
