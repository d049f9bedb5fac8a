//! Requests passed upstream: HTTP/1.1 and HTTP/2 to the client, forwarding headers, a
//! WebSocket echo, and each kind of `upstream_trust`.

use super::{answer, fixture, python, Platform};
use crate::support::run::{arg, certfleet, describe, TempDir};
use std::process::Command;

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not the echo's JSON ({e}): {text}"))
}

#[test]
fn http1_and_http2_clients_reach_the_upstream_with_forwarding_headers() {
    let platform = Platform::start();
    for (flag, version) in [("--http1.1", "1.1"), ("--http2", "2")] {
        let got = answer(&platform.curl("app.test", "/reports/7?x=1", &[flag]));
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(got.version, version);
        let echo = json(&got.body);
        assert_eq!(echo["upstream"], "plain");
        // The upstream's base path comes first; the query is kept.
        assert_eq!(echo["path"], "/base/reports/7?x=1");
        let headers = &echo["headers"];
        assert_eq!(
            headers["host"],
            format!("app.test:{}", platform.edge.port())
        );
        assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
        assert_eq!(headers["x-forwarded-proto"], "https");
        assert_eq!(headers["x-forwarded-host"], "app.test");
    }
    // A body goes up too.
    let got = answer(&platform.curl("app.test", "/form", &["--http2", "--data", "q=certfleet"]));
    let echo = json(&got.body);
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body"], "q=certfleet");
    // A host without a route is the edge's own 404.
    let got = answer(&platform.curl("app.test", "/", &["-H", "Host: nowhere.test"]));
    assert_eq!(got.status, 404);
    assert!(
        got.body.contains("no route configured for nowhere.test"),
        "{}",
        got.body
    );
}

#[test]
fn a_websocket_echo_passes_through() {
    let platform = Platform::start();
    let url = format!("wss://app.test:{}/ws", platform.edge.port());
    let out = Command::new(python())
        .arg(fixture())
        .args([
            "ws-client",
            &url,
            arg(&platform.file("edge-ca/root.crt")),
            "hello over the edge",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "websocket client failed:\n{}",
        describe(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "echo: hello over the edge"
    );
}

#[test]
fn upstream_trust_comes_from_pem_jks_and_pkcs12_files_or_is_off() {
    let platform = Platform::start();
    // HTTP/1.1 goes through the relay, HTTP/2 through the general path: the same trust.
    for (version, spoken) in [("--http1.1", "1.1"), ("--http2", "2")] {
        for host in ["pem.test", "jks.test", "p12.test", "insecure.test"] {
            let got = answer(&platform.curl(host, "/", &[version]));
            assert_eq!(got.status, 200, "{host} {version}: {}", got.body);
            assert_eq!(got.version, spoken, "{host}");
            assert_eq!(json(&got.body)["upstream"], "tls", "{host} {version}");
        }
        // The system roots do not include the upstream's private CA.
        let got = answer(&platform.curl("system.test", "/", &[version]));
        assert_eq!(got.status, 502, "{version}: {}", got.body);
    }
    assert!(
        platform.log().contains("upstream https://127.0.0.1:"),
        "{}",
        platform.log()
    );
    assert!(
        platform.log().contains("upstream_trust = false"),
        "no warning:\n{}",
        platform.log()
    );
}

#[test]
fn a_missing_trust_file_stops_start_up_naming_it() {
    let dir = TempDir::new();
    let missing = dir.join("gone/ca.jks");
    let config = dir.join("certfleet.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[[route]]\nhost = \"app.test\"\nupstream = \"https://127.0.0.1:9\"\nupstream_trust = \"{}\"\n",
            dir.join("data").display(),
            missing.display()
        ),
    )
    .unwrap();
    let out = certfleet(&["serve", "--config", arg(&config)]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("upstream_trust"), "{err}");
}
