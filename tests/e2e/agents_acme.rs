//! ACME certificates for a service run by `certfleet agent`, against Pebble: the node makes
//! the key and sends a CSR naming the model's names, `certfleet serve` orders the
//! certificate with that CSR and answers Pebble's HTTP-01 validations on its plain-HTTP
//! listener, and the agent deploys what Pebble issued. The node's hook restarts an
//! `openssl s_server` from the deployed files, and `s_client` verifies it against
//! Pebble's root for the service's names. Pebble issues for 90 s, so the renewal at two
//! thirds of the lifetime comes during the test: a new CSR, a new order, a new
//! certificate served. The node's key is never in the server's store or logs. With
//! `challenge = "tls-alpn-01"` the server's HTTPS edge answers the validations.

use crate::agents::fixture::{wait_listening, Node, RunningAgent, PLATFORM};
use crate::support::openssl::sha256_fingerprint;
use crate::support::pebble::Pebble;
use crate::support::run::{arg, assert_ok, certfleet, describe, stdout, TempDir};
use crate::support::serve::{free_addr, s_client, ServeConfig, Server};
use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The service's names, as the model orders them.
const CN: &str = "www.shop.example.test";
const SAN: &str = "shop.example.test";

/// How long Pebble's certificates last, in seconds.
const VALIDITY_SECS: u64 = 90;

fn model(listener: SocketAddr) -> String {
    format!(
        r#"[platform]
name = "{PLATFORM}"
ca = "acme"
key = "ecdsa-p256"
reload_timeout = "60s"

[[node]]
name = "node-a"
fqdn = "node-a.shop.test"
ips = ["127.0.0.1"]

[[service]]
name = "web"
node = "node-a"
cn = "{CN}"
san = ["{SAN}"]
listeners = ["{listener}"]
hook = "restart-web"

[[service.output]]
format = "pem-pair"
path = "tls/web"

[[service.output]]
format = "pem-chain"
path = "tls/web-chain.pem"
"#
    )
}

/// The script that is the node's `restart-web` hook: stops the s_server it started last
/// (its pid in `PID`), starts one on `addr` with the deployed PEM pair and chain and waits until it
/// answers.
fn hook_script(node: &Node, addr: SocketAddr) -> PathBuf {
    let script = node.base.join("restart-web.sh");
    let text = format!(
        r#"#!/bin/sh
set -u
if [ -f {pid} ]; then
  kill "$(cat {pid})" 2>/dev/null
  i=0
  while openssl s_client -connect {addr} </dev/null >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then echo "the old s_server still listens" >&2; exit 1; fi
    sleep 0.1
  done
fi
openssl s_server -accept {addr} -www -cert {crt} -key {key} -cert_chain {chain} </dev/null >>{log} 2>&1 &
echo $! > {pid}
i=0
until openssl s_client -connect {addr} </dev/null >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 600 ]; then echo "s_server did not start" >&2; exit 1; fi
  sleep 0.1
done
"#,
        pid = arg(&pid_file(node)),
        crt = arg(&node.file("tls/web.crt")),
        key = arg(&node.file("tls/web.key")),
        chain = arg(&node.file("tls/web-chain.pem")),
        log = arg(&node.base.join("s_server.log")),
    );
    fs::write(&script, text).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn pid_file(node: &Node) -> PathBuf {
    node.base.join("s_server.pid")
}

/// Stops the s_server the hook started, when dropped.
struct StopService(PathBuf);

impl Drop for StopService {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(&self.0) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// Pebble, and a server with an agent listener, `[acme]` pointed at Pebble and the model
/// as its `[[platform]]`.
struct Scene {
    dir: TempDir,
    pebble: Pebble,
    server: Server,
    agents_url: String,
    web: SocketAddr,
}

impl Scene {
    /// Starts Pebble and the server, whose orders answer `challenge`.
    fn start(challenge: &str) -> Scene {
        let dir = TempDir::new();
        let web = free_addr();
        let model_file = dir.join("shop.toml");
        fs::write(&model_file, model(web)).unwrap();
        fs::set_permissions(&model_file, fs::Permissions::from_mode(0o600)).unwrap();
        let serve_dir = dir.join("serve");
        fs::create_dir(&serve_dir).unwrap();
        let mut config = ServeConfig::new(&serve_dir);
        let https = config.listener("edge", None, None);
        let pebble = Pebble::start(config.http.port(), https.port(), Some(VALIDITY_SECS));
        let agents = free_addr();
        config.append(&format!(
            "[acme]\ndirectory = \"{}\"\nca_bundle = \"{}\"\nchallenge = \"{challenge}\"\nemail = \"pki-admin@example.test\"\n\n[agents]\nlisten = \"{agents}\"\n\n[[platform]]\nmodel = {:?}\n",
            pebble.directory(),
            arg(&pebble.api_certificate()),
            arg(&model_file),
        ));
        let server = config.start();
        wait_listening(agents, "the agent listener");
        Scene {
            dir,
            pebble,
            server,
            agents_url: format!("https://{agents}"),
            web,
        }
    }

    /// Enrols node-a's agent with `hooks`.
    fn enroll(&self, hooks: &[(&str, String)]) -> Node {
        let admin = format!("https://{}", self.server.admin);
        let token = certfleet(&[
            "node",
            "token",
            "node-a",
            "--platform",
            PLATFORM,
            "--server",
            &admin,
            "--data-dir",
            arg(&self.server.data_dir),
        ]);
        assert_ok(&token);
        let base = self.dir.join("node-a");
        fs::create_dir(&base).unwrap();
        let node = Node {
            data: base.join("data"),
            out: base.join("out"),
            base,
        };
        assert_ok(&certfleet(&[
            "agent",
            "enroll",
            "--server",
            &self.agents_url,
            "--token",
            &format!("pass:{}", stdout(&token).trim()),
            "--data-dir",
            arg(&node.data),
        ]));
        node.write_config(hooks);
        node
    }

    /// Checks that the service's listener serves `crt` and that openssl verifies it
    /// against Pebble's root for both of the service's names.
    fn assert_served_and_verified(&self, crt: &Path) {
        let (root, _) = self.pebble.roots();
        for name in [CN, SAN] {
            let out = s_client(
                self.web,
                Some(name),
                &[
                    "-CAfile",
                    arg(&root),
                    "-verify_return_error",
                    "-verify_hostname",
                    name,
                ],
            );
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("Verify return code: 0 (ok)"),
                "{name} does not verify against Pebble's root:\n{}",
                describe(&out)
            );
        }
        assert_eq!(
            crate::support::serve::served_sha1(self.web, Some(CN)),
            crate::support::openssl::sha1_fingerprint(crt)
        );
    }
}

impl Scene {
    /// The state and deployed SHA-256 that `certfleet nodes --json` shows for `web`.
    fn web_state(&self) -> (String, String) {
        let admin = format!("https://{}", self.server.admin);
        let out = certfleet(&[
            "nodes",
            "--json",
            "--server",
            &admin,
            "--data-dir",
            arg(&self.server.data_dir),
        ]);
        assert_ok(&out);
        let nodes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let web = nodes["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|n| n["services"].as_array().into_iter().flatten())
            .find(|s| s["service"] == "web")
            .cloned()
            .unwrap_or_default();
        let field = |name: &str| web[name].as_str().unwrap_or_default().to_owned();
        (field("state"), field("deployed"))
    }

    /// Waits (up to `limit`) until the agent reported `web` current with a deployed
    /// certificate other than `previous`; its SHA-256 (lower-case hex).
    fn wait_current(
        &self,
        agent: &mut RunningAgent,
        previous: Option<&str>,
        limit: Duration,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            agent.assert_running();
            let (state, deployed) = self.web_state();
            if state == "current" && !deployed.is_empty() && Some(deployed.as_str()) != previous {
                return deployed;
            }
            assert!(
                Instant::now() < deadline,
                "web is {state} ({deployed}) after {limit:?}\n--- agent ---\n{}\n--- server ---\n{}",
                agent.log(),
                self.server.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// The base64 lines of a PEM key file.
fn key_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_owned)
        .collect()
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

#[test]
fn an_agents_service_gets_its_certificate_from_acme_for_its_own_key_and_renews_it() {
    let scene = Scene::start("http-01");
    let node = scene.enroll(&[]);
    let script = hook_script(&node, scene.web);
    node.write_config(&[("restart-web", format!("sh {}", arg(&script)))]);
    let _stop = StopService(pid_file(&node));
    let mut agent = node.spawn_run();

    // The first certificate: ordered with the node's CSR, validated over HTTP-01,
    // deployed, served by the restarted s_server (the agent's check saw it).
    let crt = node.file("tls/web.crt");
    let first = scene.wait_current(&mut agent, None, Duration::from_secs(180));
    assert_eq!(sha256_fingerprint(&crt), first.to_ascii_uppercase());
    scene.assert_served_and_verified(&crt);
    let logs = scene.server.logs();
    assert!(logs.contains("answered HTTP-01"), "{logs}");
    assert!(
        scene
            .pebble
            .log()
            .contains("Attempting to validate w/ HTTP"),
        "{}",
        scene.pebble.log()
    );
    // The deployed key is the one the node made for the service.
    let node_key = node.data.join("keys/web.key");
    assert_eq!(
        fs::read(node.file("tls/web.key")).unwrap(),
        fs::read(&node_key).unwrap()
    );
    let first_key = key_lines(&node_key);

    // The renewal: due at two thirds of 90 s, a new CSR and a new order.
    let second = scene.wait_current(&mut agent, Some(&first), Duration::from_secs(300));
    assert_eq!(sha256_fingerprint(&crt), second.to_ascii_uppercase());
    scene.assert_served_and_verified(&crt);

    // No key of the node reached the server.
    let logs = scene.server.logs();
    assert!(!logs.contains("PRIVATE KEY"), "{logs}");
    let second_key = key_lines(&node_key);
    for file in files_under(&scene.server.data_dir) {
        let text = String::from_utf8_lossy(&fs::read(&file).unwrap()).into_owned();
        for lines in [&first_key, &second_key] {
            assert!(
                !text.contains(&lines[0]),
                "the node's key is in the server's {}",
                file.display()
            );
        }
    }
    for lines in [&first_key, &second_key] {
        assert!(
            !logs.contains(&lines[0]),
            "the node's key is in the server's log"
        );
    }
}

#[test]
fn tls_alpn01_validations_of_an_agents_service_are_answered_by_the_servers_edge() {
    let scene = Scene::start("tls-alpn-01");
    let node = scene.enroll(&[]);
    let script = hook_script(&node, scene.web);
    node.write_config(&[("restart-web", format!("sh {}", arg(&script)))]);
    let _stop = StopService(pid_file(&node));
    let mut agent = node.spawn_run();
    let deployed = scene.wait_current(&mut agent, None, Duration::from_secs(180));
    let crt = node.file("tls/web.crt");
    assert_eq!(sha256_fingerprint(&crt), deployed.to_ascii_uppercase());
    scene.assert_served_and_verified(&crt);
    let logs = scene.server.logs();
    for name in [CN, SAN] {
        assert!(
            logs.contains(&format!("answered a TLS-ALPN-01 validation for {name}")),
            "{name}: {logs}"
        );
    }
    assert!(!logs.contains("answered HTTP-01"), "{logs}");
}
