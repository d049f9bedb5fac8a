//! `certfleet agent` on two nodes of a platform served by a real `certfleet serve` with an
//! agent listener, judged by openssl and keytool:
//!
//! - each node's agent enrols with a token from `certfleet node token` and, in one
//!   `agent run --once`, makes its service keys on the node, gets them certified by the
//!   platform's internal CA through CSRs, and writes the outputs with their modes (key
//!   files and keystores 0600, certificates and PEM trust 0644, the data directory 0700);
//! - the deployed leaf verifies with `openssl verify` against the deployed trust store, the
//!   PKCS#12 keystore opens with the password the agent made (`agent passwords`), the JKS
//!   keystore and trust store list in keytool with the model's password;
//! - `web`'s hook restarts an `openssl s_server` (started by the test with an older
//!   certificate) and `s_client` then sees the deployed leaf, which the agent's own check
//!   found too; a second pass writes nothing and restarts nothing, and renews the agent's
//!   identity once it is past its renewal time;
//! - a hook the node's `agent.toml` does not define is refused by name, its service's
//!   files are not written and `--once` exits 1; a hook that fails rolls back: the file
//!   it replaced is put back byte for byte, and the report says `rolled_back`;
//! - `certfleet nodes --json` shows what the agents reported;
//! - a running `agent run`, whose first configured server is down, deploys through the
//!   next one, reports, and brings a model change (a new output) to the node through its
//!   long poll;
//! - enrolment trusts only a listener whose chain holds the CA the token pins, and a
//!   token used twice is refused with the server's reason, nothing saved;
//! - no service key, nor the agent's identity key, is ever in the server's data directory
//!   (its store included) or its logs, and the logs hold no private key at all.

// The agent tests' platform and the helpers the fleet, resilience and rollout tests
// share with this one.
pub(crate) mod fixture;
pub(crate) mod fleet;
pub(crate) mod killed_writes;
mod listener;
pub(crate) mod services;

use crate::keystore_interop::keytool_list;
use crate::support::openssl::{openssl, openssl_verify, sha1_fingerprint, sha256_fingerprint};
use crate::support::run::{arg, assert_exit, assert_ok, describe, stdout};
use crate::support::serve::served_sha1;
use base64::Engine as _;
use fixture::{mode, wait_until, Node, Platform};
use listener::WebService;
use std::fs;
use std::path::{Path, PathBuf};

/// The SHA-256 that `run --once` printed on a `SERVICE current sha256=HEX` line.
fn current_sha256(line: &str, service: &str) -> String {
    let rest = line
        .strip_prefix(&format!("{service} current sha256="))
        .unwrap_or_else(|| panic!("{service} is not current: {line}"));
    rest.split_whitespace().next().unwrap().to_owned()
}

/// The first certificate of a PEM file, as PEM.
fn first_pem(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let end = "-----END CERTIFICATE-----";
    let stop = text.find(end).unwrap() + end.len();
    text[text.find("-----BEGIN CERTIFICATE-----").unwrap()..stop].to_owned()
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if path.is_file() {
            found.push(path);
        }
    }
    found
}

/// The DER and base64 lines of every private key an agent keeps (its identity and its
/// service keys).
fn agent_keys(node: &Node) -> Vec<(String, Vec<u8>, Vec<String>)> {
    let mut keys = vec![node.data.join("identity.key")];
    keys.extend(files_under(&node.data.join("keys")));
    keys.into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).unwrap();
            let lines: Vec<String> = text
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned)
                .collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(lines.concat())
                .unwrap();
            (path.display().to_string(), der, lines)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn agents_enrol_deploy_restart_check_and_refuse_unknown_hooks() {
    let platform = Platform::start();

    // node-a: web, whose hook restarts the s_server that already serves an old
    // certificate.
    let a_base = platform.dir.join("node-a");
    let node_a = platform.enroll(
        "node-a",
        &[("restart-web", WebService::hook_command(&a_base))],
    );
    assert_eq!(mode(&node_a.data), 0o700);
    assert_eq!(mode(&node_a.data.join("identity.key")), 0o600);
    let web = WebService::start(&node_a, platform.web_listener);
    let old_sha1 = sha1_fingerprint(&node_a.file("tls/web.crt"));
    assert_eq!(served_sha1(web.addr, Some("web.shop.test")), old_sha1);
    assert_eq!(web.starts(), 1);

    let ran = node_a.run_once();
    assert_ok(&ran);
    let printed = stdout(&ran);
    let sha256 = current_sha256(Node::line(&printed, "web"), "web");

    let crt = node_a.file("tls/web.crt");
    let key = node_a.file("tls/web.key");
    let p12 = node_a.file("tls/web.p12");
    let trust = node_a.file("tls/trust.pem");
    for (file, expected) in [(&crt, 0o644), (&key, 0o600), (&p12, 0o600), (&trust, 0o644)] {
        assert_eq!(mode(file), expected, "{}", file.display());
    }
    assert_eq!(mode(&node_a.data.join("keys/web.key")), 0o600);
    assert_eq!(mode(&node_a.data.join("passwords.json")), 0o600);
    assert_eq!(sha256_fingerprint(&crt), sha256.to_ascii_uppercase());
    // The deployed key is the node's key for the service, and the leaf chains to the
    // deployed trust store.
    assert_eq!(
        fs::read(&key).unwrap(),
        fs::read(node_a.data.join("keys/web.key")).unwrap()
    );
    openssl_verify(&trust, Some(&crt), &crt).unwrap_or_else(|e| panic!("{e}"));
    // The hook restarted the service, which now serves the deployed leaf.
    assert_eq!(web.starts(), 2);
    let new_sha1 = sha1_fingerprint(&crt);
    assert_ne!(new_sha1, old_sha1);
    assert_eq!(served_sha1(web.addr, Some("web.shop.test")), new_sha1);
    // The PKCS#12 keystore opens with the password made on the node and holds the leaf.
    let password = node_a.password(&p12);
    let listed = openssl([
        "pkcs12",
        "-in",
        arg(&p12),
        "-passin",
        &format!("pass:{password}"),
        "-nokeys",
        "-clcerts",
    ]);
    assert!(listed.status.success(), "{}", describe(&listed));
    assert!(
        stdout(&listed).contains(&first_pem(&crt)),
        "{}",
        describe(&listed)
    );
    assert!(
        !String::from_utf8_lossy(&ran.stderr).contains(&password),
        "the agent logged a password"
    );

    // An identity past its renewal time is renewed (a new key and certificate) on the
    // next pass.
    let enrollment_file = node_a.data.join("enrollment.json");
    let mut enrollment: serde_json::Value =
        serde_json::from_slice(&fs::read(&enrollment_file).unwrap()).unwrap();
    enrollment["renew_after"] = "2000-01-01T00:00:00Z".into();
    fs::write(&enrollment_file, enrollment.to_string()).unwrap();
    let identity_key = fs::read(node_a.data.join("identity.key")).unwrap();
    let identity_crt = fs::read(node_a.data.join("identity.crt")).unwrap();

    // A second pass: nothing to write, nothing to restart, still current.
    let p12_before = fs::read(&p12).unwrap();
    let again = node_a.run_once();
    assert_ok(&again);
    assert_eq!(
        current_sha256(Node::line(&stdout(&again), "web"), "web"),
        sha256
    );
    assert_eq!(web.starts(), 2, "{}", describe(&again));
    assert_eq!(fs::read(&p12).unwrap(), p12_before);
    assert_ne!(
        fs::read(node_a.data.join("identity.key")).unwrap(),
        identity_key
    );
    assert_ne!(
        fs::read(node_a.data.join("identity.crt")).unwrap(),
        identity_crt
    );
    assert_eq!(mode(&node_a.data.join("identity.key")), 0o600);
    let renewed: serde_json::Value =
        serde_json::from_slice(&fs::read(&enrollment_file).unwrap()).unwrap();
    let renew_after = time::OffsetDateTime::parse(
        renewed["renew_after"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        renew_after > time::OffsetDateTime::now_utc(),
        "{renewed}\n{}",
        describe(&again)
    );

    // node-b: app is deployed; batch's hook is not in the node's agent.toml.
    let reloads = platform.dir.join("app-reloads.log");
    let node_b = platform.enroll(
        "node-b",
        &[("reload-app", format!("echo reloaded >> {}", arg(&reloads)))],
    );
    let ran_b = node_b.run_once();
    assert_exit(&ran_b, 1);
    let printed_b = stdout(&ran_b);
    current_sha256(Node::line(&printed_b, "app"), "app");
    let batch = Node::line(&printed_b, "batch");
    assert!(
        batch.starts_with("batch refused: ") && batch.contains("'flush-batch'"),
        "{printed_b}"
    );
    assert!(!node_b.file("batch/batch.crt").exists());
    assert!(!node_b.file("batch/batch.key").exists());
    assert_eq!(fs::read_to_string(&reloads).unwrap(), "reloaded\n");
    let keystore = node_b.file("app/keystore.jks");
    let truststore = node_b.file("app/truststore.jks");
    assert_eq!(mode(&keystore), 0o600);
    assert_eq!(mode(&truststore), 0o600);
    let listing = keytool_list(&keystore, "changeit");
    assert!(listing.contains("Alias name: app"), "{listing}");
    assert!(listing.contains("PrivateKeyEntry"), "{listing}");
    let trusted = keytool_list(&truststore, "changeit");
    for alias in ["shop-root-ca", "shop-issuing-ca"] {
        assert!(
            trusted.contains(&format!("Alias name: {alias}")),
            "{trusted}"
        );
    }

    // A hook that fails: the truststore someone tampered with is rewritten, the hook
    // fails, and the tampered bytes are put back exactly as they were.
    let tampered = b"tampered \x00\xff bytes".to_vec();
    fs::write(&truststore, &tampered).unwrap();
    node_b.set_hook("reload-app", "echo cannot reload >&2; exit 3");
    let failed = node_b.run_once();
    assert_exit(&failed, 1);
    let app = Node::line(&stdout(&failed), "app").to_owned();
    assert!(
        app.starts_with("app rolled_back") && app.contains("'reload-app' exited with 3"),
        "{}",
        describe(&failed)
    );
    assert_eq!(fs::read(&truststore).unwrap(), tampered);
    assert_eq!(mode(&keystore), 0o600);

    // The server has every report: web is current with the deployed leaf, app failed.
    let nodes = platform.nodes();
    let state = |node: &str, service: &str| -> serde_json::Value {
        nodes["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["node"] == node)
            .flat_map(|n| n["services"].as_array().unwrap().iter())
            .find(|s| s["service"] == service)
            .unwrap_or_else(|| panic!("no {node}/{service} in {nodes}"))
            .clone()
    };
    let web_state = state("node-a", "web");
    assert_eq!(web_state["state"], "current", "{nodes}");
    assert_eq!(web_state["deployed"], sha256.as_str(), "{nodes}");
    assert_eq!(state("node-b", "app")["state"], "failed", "{nodes}");

    // No private key of a node ever reached the server.
    let logs = platform.server.logs();
    assert!(!logs.contains("PRIVATE KEY"), "{logs}");
    let server_files = files_under(&platform.server.data_dir);
    assert!(!server_files.is_empty());
    for node in [&node_a, &node_b] {
        for (name, der, lines) in agent_keys(node) {
            assert!(!logs.contains(&lines[0]), "{name} is in the server's log");
            for file in &server_files {
                let bytes = fs::read(file).unwrap();
                assert!(
                    !contains(&bytes, &der) && !contains(&bytes, lines[0].as_bytes()),
                    "{name} is in the server's {}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn enrolment_trusts_only_the_pinned_ca_and_shows_the_servers_refusal() {
    let platform = Platform::start();
    let enroll = |token: &str, data: &Path| {
        crate::support::run::certfleet(&[
            "agent",
            "enroll",
            "--server",
            &platform.agents_url,
            "--token",
            &format!("pass:{token}"),
            "--data-dir",
            arg(data),
        ])
    };
    let token = platform.token("node-a");

    // The same token with another CA pin: the listener's chain does not hold that CA,
    // so the agent does not even send the token.
    let (head, _) = token.rsplit_once('.').unwrap();
    let other_pin = format!("{head}.{}", "0".repeat(64));
    let pinned_out = platform.dir.join("pinned-out");
    let refused = enroll(&other_pin, &pinned_out);
    assert_exit(&refused, 2);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("pin"), "{}", describe(&refused));
    assert!(!pinned_out.join("enrollment.json").exists());

    // The right token enrols once; used again, the server's reason is shown and nothing
    // is saved.
    assert_ok(&enroll(&token, &platform.dir.join("first")));
    let second = platform.dir.join("second");
    let again = enroll(&token, &second);
    assert_exit(&again, 2);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(&format!("{} refused: ", platform.agents_url))
            && stderr.contains("(HTTP 4"),
        "{}",
        describe(&again)
    );
    assert!(!second.join("enrollment.json").exists());
    assert!(!second.join("identity.key").exists());
    assert!(
        !stderr.contains(token.split('.').nth(1).unwrap()),
        "the token's secret was printed"
    );
}

#[test]
fn a_running_agent_deploys_and_follows_a_model_change() {
    let platform = Platform::start();
    let node = platform.enroll(
        "node-b",
        &[
            ("reload-app", "true".to_owned()),
            ("flush-batch", "true".to_owned()),
        ],
    );
    // The first server in agent.toml is down: the agent moves on to the next.
    let down = format!("https://{}", crate::support::serve::free_addr());
    node.write_config_with_servers(
        &[down, platform.agents_url.clone()],
        &[
            ("reload-app", "true".to_owned()),
            ("flush-batch", "true".to_owned()),
        ],
    );
    let mut agent = node.spawn_run();
    let keystore = node.file("app/keystore.jks");
    let batch_crt = node.file("batch/batch.crt");
    wait_until("the first deployment", &mut agent, || {
        keystore.exists() && batch_crt.exists()
    });
    let service_state = |service: &str| {
        let nodes = platform.nodes();
        nodes["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["node"] == "node-b")
            .flat_map(|n| n["services"].as_array().unwrap().iter())
            .find(|s| s["service"] == service)
            .map(|s| s["state"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    wait_until("the reports of both services", &mut agent, || {
        service_state("app") == "current" && service_state("batch") == "current"
    });

    // The model gains an output: the running agent's long poll brings it to the node.
    let model = fs::read_to_string(&platform.model_file).unwrap();
    let edited = model.replacen(
        "path = \"batch/batch\"\n",
        "path = \"batch/batch\"\n\n[[service.output]]\nformat = \"der\"\npath = \"batch/batch.der\"\n",
        1,
    );
    assert_ne!(edited, model);
    fs::write(&platform.model_file, edited).unwrap();
    let der = node.file("batch/batch.der");
    wait_until("the new output", &mut agent, || der.exists());
    // The DER file is the deployed leaf.
    assert_eq!(
        sha256_fingerprint(&der),
        sha256_fingerprint(&batch_crt),
        "{}",
        agent.log()
    );
    assert_eq!(mode(&der), 0o644);
    let log = agent.log();
    assert!(!log.contains("PRIVATE KEY"), "{log}");
    assert!(log.contains("trying the next server"), "{log}");
}
