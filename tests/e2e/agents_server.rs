//! The server side of the agents against a real `certfleet serve` with `[agents]` and a
//! `[[platform]]` whose internal CA `certfleet ca init` made, an agent played by hand
//! (openssl makes its keys and CSRs, a rustls client speaks HTTPS):
//!
//! - `certfleet node token` makes tokens (and names a node the model lacks); a token
//!   enrols once: reused it is refused ("already used"), and a token with `--ttl 1` is
//!   refused once its second has passed ("expired");
//! - the identity names its node in a URI SAN (read by openssl), and the agent listener
//!   is trusted through the agents CA of the identity answer; without a client
//!   certificate the assignment is refused (401);
//! - node n1's assignment lists exactly its services; n1 asking for a certificate of
//!   n2's service is refused (403); a CSR for its own service gets an issued certificate
//!   that `openssl verify` accepts under the platform's root, with the model's names;
//! - a report makes the service current in `certfleet nodes`, and n2 is listed unseen
//!   and not enrolled.

mod client;

use crate::support::openssl::{openssl, openssl_verify, sha256_fingerprint};
use crate::support::run::{arg, assert_ok, certfleet, describe, stdout, stdout_json, TempDir};
use crate::support::serve::{free_addr, ServeConfig, Server};
use client::AgentClient;
use serde_json::{json, Value};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

const MODEL: &str = r#"[platform]
name = "lab"
ca = "internal"
ca_dir = "ca"

[[node]]
name = "n1"
fqdn = "n1.lab.example.test"
ips = ["127.0.0.1"]

[[node]]
name = "n2"
fqdn = "n2.lab.example.test"

[[service]]
name = "web"
node = "n1"
usage = "server"
listeners = ["127.0.0.1:9"]
hook = "reload-web"

[[service.output]]
format = "pem-pair"
path = "/opt/web/tls"

[[service]]
name = "db"
node = "n2"
usage = "both"

[[connection]]
from = "db"
to = "web"
"#;

/// A key and a CSR made by openssl in `dir` as `NAME.key` and `NAME.csr`; the key's
/// PEM and the CSR's PEM.
fn openssl_csr(dir: &Path, name: &str) -> (String, String) {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let out = openssl([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        arg(&key),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let out = openssl([
        "req",
        "-new",
        "-key",
        arg(&key),
        "-subj",
        &format!("/CN={name}"),
        "-out",
        arg(&csr),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    (
        std::fs::read_to_string(key).unwrap(),
        std::fs::read_to_string(csr).unwrap(),
    )
}

fn admin_flags(server: &Server) -> Vec<String> {
    vec![
        "--server".into(),
        format!("https://{}", server.admin),
        "--data-dir".into(),
        arg(&server.data_dir).to_owned(),
    ]
}

/// `certfleet node token NODE --platform lab --json` with `extra` flags.
fn node_token(server: &Server, node: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["node", "token", node, "--platform", "lab"];
    args.extend_from_slice(extra);
    let flags = admin_flags(server);
    args.extend(flags.iter().map(String::as_str));
    certfleet(&args)
}

fn wait_for(addr: SocketAddr, server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "no agent listener at {addr}\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn enrol(addr: SocketAddr, token: &str, csr: &str) -> (u16, Value) {
    AgentClient::pinned(addr, token).call(
        "POST",
        "/agent/v1/enroll",
        Some(&json!({"token": token, "csr_pem": csr})),
    )
}

#[test]
fn agents_enrol_once_get_their_own_assignment_and_certificates_openssl_accepts() {
    let dir = TempDir::new();
    let model = dir.join("lab.toml");
    std::fs::write(&model, MODEL).unwrap();
    let ca = dir.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "lab Root CA",
        "--intermediate-cn",
        "lab Issuing CA",
    ]));

    let serve_dir = dir.join("serve");
    std::fs::create_dir_all(&serve_dir).unwrap();
    let mut config = ServeConfig::new(&serve_dir);
    config.listener("web", None, None);
    let agents = free_addr();
    config.append(&format!(
        "[agents]\nlisten = \"{agents}\"\nidentity_days = 2\n\n[[platform]]\nmodel = {:?}\nrun_reloads = false\n",
        arg(&model)
    ));
    let server = config.start();
    wait_for(agents, &server);
    // The listeners are bound before their addresses are printed: wait for the line.
    let expected = format!("agents https://{agents}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let printed = std::fs::read_to_string(serve_dir.join("serve-1.out")).unwrap();
        if printed.contains(&expected) {
            break;
        }
        assert!(Instant::now() < deadline, "{printed}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Tokens: a node the model lacks is named; a token enrols once.
    let out = node_token(&server, "n9", &[]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("node n9"),
        "{}",
        describe(&out)
    );
    let out = node_token(&server, "n1", &[]);
    assert_ok(&out);
    let token = stdout(&out).trim().to_owned();
    assert!(token.starts_with("cfa1."), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("valid until"),
        "{}",
        describe(&out)
    );

    let (identity_key, identity_csr) = openssl_csr(dir.path(), "identity");
    let (status, identity) = enrol(agents, &token, &identity_csr);
    assert_eq!(status, 200, "{identity}\n{}", server.logs());
    assert_eq!(
        (identity["platform"].as_str(), identity["node"].as_str()),
        (Some("lab"), Some("n1"))
    );
    let (status, again) = enrol(agents, &token, &identity_csr);
    assert_eq!(
        (status, again["error"].as_str()),
        (403, Some("enrolment token already used"))
    );

    let short = stdout_json(&node_token(&server, "n2", &["--ttl", "1", "--json"]));
    let expires = time::OffsetDateTime::parse(
        short["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    while time::OffsetDateTime::now_utc() <= expires + time::Duration::seconds(1) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, late) = enrol(agents, short["token"].as_str().unwrap(), &identity_csr);
    assert_eq!(
        (status, late["error"].as_str()),
        (403, Some("enrolment token expired"))
    );

    // The identity, judged by openssl: its node in a URI SAN, issued by the agents CA.
    let cert_file = dir.join("identity.crt");
    let ca_file = dir.join("agents-ca.crt");
    std::fs::write(&cert_file, identity["certificate_pem"].as_str().unwrap()).unwrap();
    std::fs::write(&ca_file, identity["agents_ca_pem"].as_str().unwrap()).unwrap();
    openssl_verify(&ca_file, None, &cert_file).unwrap();
    let sans = openssl([
        "x509",
        "-in",
        arg(&cert_file),
        "-noout",
        "-ext",
        "subjectAltName",
    ]);
    assert!(
        String::from_utf8_lossy(&sans.stdout).contains("URI:urn:certfleet:agent:lab:n1"),
        "{}",
        describe(&sans)
    );

    let anonymous = AgentClient::pinned(agents, &token);
    let (status, _) = anonymous.call("GET", "/agent/v1/assignment", None);
    assert_eq!(status, 401);
    let n1 = AgentClient::identified(
        agents,
        identity["agents_ca_pem"].as_str().unwrap(),
        identity["certificate_pem"].as_str().unwrap(),
        &identity_key,
    );
    let (status, assignment) = n1.call("GET", "/agent/v1/assignment", None);
    assert_eq!(status, 200, "{assignment}");
    let services: Vec<&str> = assignment["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["web"], "{assignment}");
    let web = &assignment["services"][0];
    assert_eq!(web["certificate"]["state"], "wanted", "{web}");
    assert_eq!(web["hook"], "reload-web");
    assert_eq!(
        web["trust"].as_array().unwrap().len(),
        0,
        "web trusts nobody: {web}"
    );

    // Another node's service is refused; its own gets a certificate from the platform CA.
    let (_, db_csr) = openssl_csr(dir.path(), "db");
    let (status, refused) = n1.call(
        "POST",
        "/agent/v1/certificates",
        Some(&json!({"service": "db", "csr_pem": db_csr})),
    );
    assert_eq!(status, 403, "{refused}");
    let (web_key, web_csr) = openssl_csr(dir.path(), "web");
    let (status, issued) = n1.call(
        "POST",
        "/agent/v1/certificates",
        Some(&json!({"service": "web", "csr_pem": web_csr})),
    );
    assert_eq!(status, 200, "{issued}\n{}", server.logs());
    assert_eq!(issued["state"], "issued", "{issued}");
    let leaf = dir.join("web.crt");
    let chain = dir.join("web-chain.crt");
    std::fs::write(&leaf, issued["leaf_pem"].as_str().unwrap()).unwrap();
    let chain_pem: String = issued["chain_pem"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    std::fs::write(&chain, chain_pem).unwrap();
    openssl_verify(&ca.join("root.crt"), Some(&chain), &leaf).unwrap();
    let names = openssl([
        "x509",
        "-in",
        arg(&leaf),
        "-noout",
        "-ext",
        "subjectAltName",
        "-pubkey",
    ]);
    let names = String::from_utf8_lossy(&names.stdout).into_owned();
    assert!(
        names.contains("DNS:n1.lab.example.test") && names.contains("IP Address:127.0.0.1"),
        "{names}"
    );
    let public = openssl(["pkey", "-in", arg(&dir.join("web.key")), "-pubout"]);
    assert!(
        names.contains(String::from_utf8_lossy(&public.stdout).trim()),
        "the leaf is for the node's key"
    );
    assert!(!web_key.is_empty());
    let thumbprint = sha256_fingerprint(&leaf).to_ascii_lowercase();
    assert_eq!(issued["sha256"], thumbprint.as_str());

    let (_, assignment) = n1.call("GET", "/agent/v1/assignment", None);
    assert_eq!(
        assignment["services"][0]["certificate"]["sha256"],
        thumbprint.as_str(),
        "{assignment}"
    );

    // A report makes it current; n2 has never been seen.
    let report = json!({
        "revision": assignment["revision"], "service": "web", "outcome": "current",
        "thumbprint": thumbprint, "outputs": [], "hook": null, "check": null, "error": null,
        "agent_version": "by-hand", "time": "2026-12-07T00:00:00Z"
    });
    let (status, _) = n1.call("POST", "/agent/v1/reports", Some(&report));
    assert_eq!(status, 204);
    let flags = admin_flags(&server);
    let mut args = vec!["nodes", "--json"];
    args.extend(flags.iter().map(String::as_str));
    let nodes = stdout_json(&certfleet(&args));
    let listed = nodes["nodes"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{nodes}");
    assert_eq!(
        (listed[0]["node"].as_str(), listed[0]["enrolled"].as_bool()),
        (Some("n1"), Some(true))
    );
    assert_eq!(listed[0]["services"][0]["state"], "current", "{nodes}");
    assert_eq!(listed[0]["agent_version"], "by-hand");
    assert_eq!(
        (listed[1]["node"].as_str(), listed[1]["enrolled"].as_bool()),
        (Some("n2"), Some(false))
    );
    assert_eq!(listed[1]["services"][0]["state"], "unseen", "{nodes}");
    let table = stdout(&certfleet(
        &args[..1]
            .iter()
            .copied()
            .chain(flags.iter().map(String::as_str))
            .collect::<Vec<_>>(),
    ));
    assert!(
        table.contains("current") && table.contains(&thumbprint[..12]),
        "{table}"
    );
}
