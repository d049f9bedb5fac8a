//! The platform of the rollout test, built on the agent tests' fixture: an internal CA, a
//! model with three nodes on 127.0.0.1, 127.0.0.2 and 127.0.0.3, each running `web-N`
//! (kind `nginx`: one rollout group, `max_unavailable = 1`) served by an nginx of the
//! test's own that the node's `reload-web` hook reloads gracefully (`nginx -s reload`);
//! a real `certfleet serve` with an agent listener; and per node an enrolled
//! `certfleet agent run` in the background.
//!
//! The hook refuses a certificate while the node's `keep` file names another one (its
//! SHA-256): it exits 1 without signalling nginx, which goes on serving the certificate
//! it loaded; the agent then puts the previous files back and runs the hook again, which
//! reloads nginx with them.

use super::watch::{self, Shown, Watcher};
use crate::agents::fixture::{self, wait_listening, RunningAgent};
use crate::agents::fleet::{admin, free_addr_on, model_head_with, node_fqdn, node_ip};
use crate::agents::services::{bootstrap_files, Nginx};
use crate::support::https::{request, Answer};
use crate::support::run::{arg, assert_ok, describe, stdout};
use crate::support::serve::free_addr;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use crate::agents::fixture::PLATFORM;
/// The rollout group of the three services (their `kind`).
pub const GROUP: &str = "nginx";
/// The hook every node defines.
pub const HOOK: &str = "reload-web";

/// Polls `done` every 200 ms for up to three minutes; panics naming `what`, with
/// `context()`, when it never holds.
pub fn wait_until(what: &str, context: impl Fn() -> String, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 180 s\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The group's three services, `web-N` on `nN` listening on `listeners[N-1]`, each with
/// a PEM pair `tls/web-N.crt|key`.
fn model(listeners: &[SocketAddr]) -> String {
    let mut text = model_head_with("ecdsa-p256", "max_unavailable = 1\n");
    for (i, addr) in listeners.iter().enumerate() {
        let n = i + 1;
        text.push_str(&format!(
            "\n[[service]]\nname = \"web-{n}\"\nnode = \"n{n}\"\nkind = \"{GROUP}\"\nlisteners = [\"{addr}\"]\nhook = \"{HOOK}\"\n\n[[service.output]]\nformat = \"pem-pair\"\npath = \"tls/web-{n}\"\n"
        ));
    }
    text
}

/// One node: its agent's files, its service and the processes running there.
pub struct Node {
    /// `n1`, `n2`, `n3`.
    pub name: String,
    /// The SNI its service answers (`nN.shop.test`).
    pub server_name: String,
    /// Where `web-N` listens.
    pub addr: SocketAddr,
    /// The agent's data directory, output root and `agent.toml`.
    pub files: fixture::Node,
    agent: RunningAgent,
    /// The service (stopped after the agent, fields dropping in order).
    pub nginx: Nginx,
}

impl Node {
    /// The file that, while it exists, names the only certificate (SHA-256, upper-case
    /// hex) the hook accepts.
    pub fn keep_file(&self) -> PathBuf {
        self.files.base.join("keep")
    }

    /// The agent's log.
    pub fn log(&self) -> String {
        self.agent.log()
    }

    /// Every run of the hook so far, oldest first: `reloaded` or `refused`.
    pub fn hook_runs(&self) -> Vec<String> {
        fs::read_to_string(self.files.base.join("hook-runs.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Writes `BASE/reload-web.sh`: the refusal described in the module's documentation,
/// then `nginx`'s graceful reload; every run appends `reloaded` or `refused` to
/// `BASE/hook-runs.log`.
fn write_hook(base: &Path, crt: &Path, nginx: &Nginx) -> PathBuf {
    let script = base.join("reload-web.sh");
    let text = format!(
        r#"#!/bin/sh
# Reloads web's nginx with the deployed files, unless {keep} names another certificate.
set -u
if [ -f {keep} ]; then
  want=$(openssl x509 -in {crt} -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
  if [ "$want" != "$(cat {keep})" ]; then
    echo refused >> {runs}
    echo "refusing certificate $want" >&2
    exit 1
  fi
fi
echo reloaded >> {runs}
exec {reload}
"#,
        keep = arg(&base.join("keep")),
        crt = arg(crt),
        runs = arg(&base.join("hook-runs.log")),
        reload = nginx.hook(),
    );
    fs::write(&script, text).unwrap();
    script
}

/// One rollout record of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `rollout.turn`, `rollout.done`, `rollout.halt`.
    pub action: String,
    /// `service shop/web-N`.
    pub object: String,
    /// When the server wrote it.
    pub at: OffsetDateTime,
}

/// The rollout records of a `GET /api/audit` page (newest first), oldest first.
pub fn rollout_records(page: &serde_json::Value) -> Vec<Record> {
    let mut list: Vec<Record> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == "agent-rollout")
        .map(|r| Record {
            action: r["action"].as_str().unwrap().to_owned(),
            object: r["object"].as_str().unwrap().to_owned(),
            at: OffsetDateTime::parse(r["at"].as_str().unwrap(), &Rfc3339)
                .unwrap_or_else(|e| panic!("{r}: {e}")),
        })
        .collect();
    list.reverse();
    list
}

/// The running platform.
pub struct Platform {
    /// The three nodes (stopped before the server).
    pub nodes: Vec<Node>,
    /// The server and its files.
    pub server: fixture::Platform,
    /// The platform's root CA certificate.
    pub root: PathBuf,
}

impl Platform {
    /// Makes the CA and the model, starts the server, and on each node starts nginx on a
    /// self-signed certificate, enrols an agent with the hook and starts it.
    pub fn start() -> Platform {
        Platform::start_with(|_| String::new(), "")
    }

    /// As [`Platform::start`], with `more(listeners)` appended to the model (more
    /// services and connections) and `agents_keys` added to the server's `[agents]`.
    pub fn start_with(more: impl Fn(&[SocketAddr]) -> String, agents_keys: &str) -> Platform {
        let listeners: Vec<SocketAddr> = (1..=3).map(|n| free_addr_on(&node_ip(n))).collect();
        let text = model(&listeners) + &more(&listeners);
        let server = fixture::Platform::start_with_model_and(&text, free_addr(), agents_keys);
        wait_listening(server.agents, "the agent listener");
        let mut nodes = Vec::new();
        for (i, addr) in listeners.iter().enumerate() {
            let n = i + 1;
            let name = format!("n{n}");
            let files = server.enroll(&name, &[]);
            let prefix = files.file(&format!("tls/web-{n}"));
            let (crt, key) = (prefix.with_extension("crt"), prefix.with_extension("key"));
            bootstrap_files(&prefix, &node_fqdn(n), None);
            let nginx = Nginx::start(&files.base, *addr, &node_fqdn(n), &crt, &key, None);
            let script = write_hook(&files.base, &crt, &nginx);
            files.write_config(&[(HOOK, format!("sh {}", arg(&script)))]);
            nodes.push(Node {
                name,
                server_name: node_fqdn(n),
                addr: *addr,
                agent: files.spawn_run(),
                files,
                nginx,
            });
        }
        Platform {
            root: server.dir.join("platform").join("ca").join("root.crt"),
            nodes,
            server,
        }
    }

    /// `certfleet ARGS... --server ADMIN --data-dir DATA`, which must succeed; stdout.
    pub fn admin(&self, args: &[&str]) -> String {
        let out = admin(&self.server, args);
        assert_ok(&out);
        stdout(&out)
    }

    /// An admin API request with the admin token.
    pub fn api(&self, method: &str, path: &str) -> Answer {
        let token = fs::read_to_string(self.server.server.data_dir.join("admin.token")).unwrap();
        request(
            method,
            &format!("https://{}{path}", self.server.server.admin),
            &[format!("Authorization: Bearer {}", token.trim())],
            None,
        )
    }

    /// `certfleet nodes --json`: each node's one service.
    pub fn shown(&self) -> Vec<Shown> {
        watch::parse(&self.server.nodes())
    }

    /// Starts watching `GET /api/nodes` (the answer `certfleet nodes` prints).
    pub fn watch_nodes(&self) -> Watcher {
        let token = fs::read_to_string(self.server.server.data_dir.join("admin.token")).unwrap();
        Watcher::start(
            format!("https://{}/api/nodes", self.server.server.admin),
            format!("Authorization: Bearer {}", token.trim()),
        )
    }

    /// `certfleet nodes` as a table: the row of each node, its columns split.
    pub fn table(&self) -> Vec<Vec<String>> {
        let out = admin(&self.server, &["nodes"]);
        assert_ok(&out);
        stdout(&out)
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .collect()
    }

    /// The rollout's audit records (`agent-rollout`), oldest first.
    pub fn rollout_audit(&self) -> Vec<Record> {
        let answer = self.api("GET", "/api/audit?limit=500");
        assert_eq!(answer.status, 200, "{}", answer.body);
        rollout_records(&answer.json())
    }

    /// `GET /metrics` with the admin token.
    pub fn metrics(&self) -> String {
        let answer = self.api("GET", "/metrics");
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    }

    /// The agents', the services' and the server's logs, for a failure message.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for node in &self.nodes {
            text.push_str(&format!(
                "--- agent {}:\n{}\n--- nginx {}:\n{}\n",
                node.name,
                node.log(),
                node.name,
                node.nginx.log()
            ));
        }
        text.push_str(&format!("--- server:\n{}", self.server.server.logs()));
        text
    }
}

/// `promtool check metrics` of `text`: its verdict, or why it could not run.
pub fn promtool_check(text: &str) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run promtool ({e}): scripts/install-test-deps installs it")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    eprintln!("promtool check metrics: {}", describe(&out));
    out
}
