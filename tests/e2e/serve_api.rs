//! The admin listener's REST API as a browser, a script and a fuzzer see it over HTTPS:
//! the OpenAPI document at /api/openapi.json lists the routes, every route refuses
//! requests without credentials, UI sessions need their CSRF token for changes, CORS
//! follows `[admin] cors_origins`, answers carry the security headers, and schemathesis
//! (PyPI), driven by the document, provokes no server error and finds every answer as
//! documented, a real platform's plan and apply among them.

use crate::support::https::{request, Answer};
use crate::support::run::{arg, TempDir};
use crate::support::serve::{free_addr, ServeConfig, Server};
use crate::support::venv::venv_tool;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const UI_ORIGIN: &str = "https://ui.example.test:8443";

/// A small platform model named as the document's example (`qms`), so the fuzzer's
/// example phase plans and applies a real platform and its answers are checked against
/// the document. Its reload is held back by the server's configuration.
const MODEL: &str = r#"[platform]
name = "qms"
ca = "self-signed"

[[node]]
name = "n1"
fqdn = "n1.api.example.test"

[[service]]
name = "web"
node = "n1"
usage = "server"
reload = "false"

[[service.output]]
format = "pem-pair"
path = "/opt/web/tls"
"#;

/// A server with a CORS origin allowed, ACME pointed at a closed loopback port (a
/// fuzzer turning ACME on must not reach out), and the `qms` platform.
fn start(dir: &TempDir) -> Server {
    let mut config = ServeConfig::new(dir.path());
    config.admin_key(&format!("cors_origins = [\"{UI_ORIGIN}\"]"));
    config.listener("web", None, None);
    config.append(&format!(
        "[acme]\ndirectory = \"https://{}/directory\"\n",
        free_addr()
    ));
    let model = dir.join("qms.toml");
    std::fs::write(&model, MODEL).unwrap();
    config.append(&format!(
        "[[platform]]\nmodel = \"{}\"\nroot = \"{}\"\nrun_reloads = false\n",
        arg(&model),
        arg(&dir.join("stage"))
    ));
    config.start()
}

fn token(server: &Server) -> String {
    std::fs::read_to_string(server.data_dir.join("admin.token"))
        .unwrap()
        .trim()
        .to_owned()
}

fn url(server: &Server, path: &str) -> String {
    format!("https://{}{path}", server.admin)
}

fn bearer(server: &Server) -> Vec<String> {
    vec![format!("Authorization: Bearer {}", token(server))]
}

fn document(server: &Server) -> Value {
    let answer = request(
        "GET",
        &url(server, "/api/openapi.json"),
        &bearer(server),
        None,
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer
        .header("content-type")
        .starts_with("application/json"));
    answer.json()
}

fn assert_security_headers(answer: &Answer) {
    let csp = answer.header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{answer:?}");
    assert!(csp.contains("frame-ancestors 'none'"), "{answer:?}");
    assert_eq!(answer.header("x-frame-options"), "DENY");
    assert_eq!(answer.header("x-content-type-options"), "nosniff");
    assert_eq!(answer.header("referrer-policy"), "no-referrer");
    assert_eq!(answer.header("cache-control"), "no-store");
}

#[test]
fn every_documented_route_needs_credentials_and_sessions_need_csrf_tokens() {
    let dir = TempDir::new();
    let server = start(&dir);

    let unauthenticated = request("GET", &url(&server, "/api/openapi.json"), &[], None);
    assert_eq!(unauthenticated.status, 401);
    assert_security_headers(&unauthenticated);

    let document = document(&server);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for expected in [
        "/api/domains",
        "/api/domains/{name}",
        "/api/domains/{name}/certificate",
        "/api/domains/{name}/acme",
        "/api/resolve/{name}",
        "/api/status",
        "/api/alerts",
        "/api/session",
        "/api/openapi.json",
        "/api/platforms",
        "/api/platforms/{name}/apply",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let method = method.to_ascii_uppercase();
            let concrete = path.replace("{name}", "example.test");
            for headers in [
                vec![],
                vec!["Authorization: Bearer wrong".to_owned()],
                vec!["Cookie: __Host-certfleet_session=forged".to_owned()],
            ] {
                let answer = request(&method, &url(&server, &concrete), &headers, Some("{}"));
                assert_eq!(
                    answer.status, 401,
                    "{method} {path} {headers:?}: {answer:?}"
                );
                assert!(answer.json()["error"].is_string());
            }
            operations += 1;
        }
    }
    assert!(operations >= 12, "{operations} operations");

    // A UI session: login, reads, a change refused without the CSRF token, accepted
    // with it; logout ends it.
    let login = request(
        "POST",
        &url(&server, "/api/session"),
        &[],
        Some(&format!("{{\"token\": \"{}\"}}", token(&server))),
    );
    assert_eq!(login.status, 200, "{login:?}");
    let set_cookie = login.header("set-cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = format!("Cookie: {}", set_cookie.split(';').next().unwrap());
    let csrf = login.json()["csrf_token"].as_str().unwrap().to_owned();
    let answer = request(
        "GET",
        &url(&server, "/api/domains"),
        std::slice::from_ref(&cookie),
        None,
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    let add = Some(r#"{"name": "example.test"}"#);
    let refused = request(
        "POST",
        &url(&server, "/api/domains"),
        std::slice::from_ref(&cookie),
        add,
    );
    assert_eq!(refused.status, 403, "{refused:?}");
    let with_csrf = vec![cookie.clone(), format!("X-CSRF-Token: {csrf}")];
    let added = request("POST", &url(&server, "/api/domains"), &with_csrf, add);
    assert_eq!(added.status, 201, "{added:?}");
    let logout = request("DELETE", &url(&server, "/api/session"), &with_csrf, None);
    assert_eq!(logout.status, 204, "{logout:?}");
    let after = request("GET", &url(&server, "/api/domains"), &[cookie], None);
    assert_eq!(after.status, 401);

    // CORS: the listed origin is allowed with credentials, any other gets nothing.
    let preflight = |origin: &str| {
        request(
            "OPTIONS",
            &url(&server, "/api/domains"),
            &[
                format!("Origin: {origin}"),
                "Access-Control-Request-Method: POST".to_owned(),
                "Access-Control-Request-Headers: content-type, x-csrf-token".to_owned(),
            ],
            None,
        )
    };
    let allowed = preflight(UI_ORIGIN);
    assert!((200..300).contains(&allowed.status), "{allowed:?}");
    assert_eq!(allowed.header("access-control-allow-origin"), UI_ORIGIN);
    assert_eq!(allowed.header("access-control-allow-credentials"), "true");
    let denied = preflight("https://evil.example.test");
    assert_eq!(denied.status, 401);
    assert!(
        !denied
            .headers
            .keys()
            .any(|h| h.starts_with("access-control-")),
        "{denied:?}"
    );

    // The CLI keeps working with the bearer token, and sees the session's change.
    let list = server.domain_ok(&["list", "--json"]);
    assert_eq!(list[0]["name"], "example.test", "{list}");
    assert!(!server.logs().contains(&token(&server)));
    assert!(!server.logs().contains(&csrf));
}

#[test]
fn schemathesis_finds_no_server_error_in_the_admin_api() {
    let dir = TempDir::new();
    let server = start(&dir);
    let schema = dir.join("openapi.json");
    std::fs::write(&schema, document(&server).to_string()).unwrap();
    let token = token(&server);

    let mut child = Command::new(venv_tool("schemathesis", "schemathesis"))
        .current_dir(dir.path())
        .args(["run", arg(&schema), "--url", &url(&server, "")])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--tls-verify", "false", "--no-color"])
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,ignored_auth",
        ])
        .args(["--max-examples", "25", "--request-timeout", "20"])
        // A connection the server drops at its header time-out while a loaded machine
        // keeps schemathesis from writing is tried again; an answer is never retried.
        .args(["--request-retries", "2"])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("schemathesis.out")).unwrap())
        .stderr(std::fs::File::create(dir.join("schemathesis.err")).unwrap())
        .spawn()
        .expect("failed to start schemathesis");
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = format!(
        "{}\n{}",
        std::fs::read_to_string(dir.join("schemathesis.out")).unwrap_or_default(),
        std::fs::read_to_string(dir.join("schemathesis.err")).unwrap_or_default()
    );
    let status = status.unwrap_or_else(|| panic!("schemathesis ran over 240 s\n{output}"));
    assert!(
        status.success(),
        "schemathesis found failures ({status})\n{output}\n{}",
        server.logs()
    );
    assert!(output.contains("passed"), "{output}");
    assert!(!server.logs().contains(&token));
    // The example phase applied the `qms` platform through the API (its answer checked
    // against the document like every other).
    assert!(
        dir.join("stage/opt/web/tls.crt").is_file(),
        "schemathesis never applied the example platform\n{output}"
    );
}
