//! The platform of the rollout test: an internal CA made with `certfleet ca init`, a
//! model with three nodes on 127.0.0.1, 127.0.0.2 and 127.0.0.3, each running `web-N`
//! (kind `nginx`: one rollout group) served by an `openssl s_server` that the node's
//! `restart-web` hook restarts; a real `certfleet serve` with an agent listener; and per
//! node an enrolled `certfleet agent run` in the background.
//!
//! The hook refuses a certificate while the node's `keep` file names another one (its
//! SHA-256): it exits 1 without touching the running server, so the agent rolls back and
//! runs it again with the previous files.

use crate::support::https::{request, Answer};
use crate::support::run::{arg, assert_ok, certfleet, stdout, TempDir};
use crate::support::serve::{free_addr, ServeConfig, Server};
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The model's `[platform] name`.
pub const PLATFORM: &str = "shop";
/// The rollout group of the three services (their `kind`).
pub const GROUP: &str = "nginx";

/// A free port on `ip`.
fn free_addr_on(ip: &str) -> SocketAddr {
    TcpListener::bind(format!("{ip}:0"))
        .unwrap()
        .local_addr()
        .unwrap()
}

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

fn wait_listening(addr: SocketAddr) {
    wait_until(&format!("a listener on {addr}"), String::new, || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
}

fn model(listeners: &[SocketAddr]) -> String {
    let mut text = format!(
        "[platform]\nname = \"{PLATFORM}\"\nca = \"internal\"\nca_dir = \"ca\"\ndays = 30\nmax_unavailable = 1\n"
    );
    for (i, addr) in listeners.iter().enumerate() {
        let n = i + 1;
        text.push_str(&format!(
            "\n[[node]]\nname = \"n{n}\"\nfqdn = \"n{n}.shop.test\"\nips = [\"{}\"]\n",
            addr.ip()
        ));
    }
    for (i, addr) in listeners.iter().enumerate() {
        let n = i + 1;
        text.push_str(&format!(
            "\n[[service]]\nname = \"web-{n}\"\nnode = \"n{n}\"\nkind = \"{GROUP}\"\nlisteners = [\"{addr}\"]\nhook = \"restart-web\"\n\n[[service.output]]\nformat = \"pem-pair\"\npath = \"tls/web-{n}\"\n"
        ));
    }
    text
}

/// One node: its agent's files, its service's address and its running processes.
pub struct Node {
    /// `n1`, `n2`, `n3`.
    pub name: String,
    /// The SNI its service answers (`nN.shop.test`).
    pub server_name: String,
    /// Where `web-N` listens.
    pub addr: SocketAddr,
    /// N.
    number: usize,
    base: PathBuf,
    agent: Option<Child>,
}

impl Node {
    /// The file that, while it exists, names the only certificate (SHA-256, upper-case
    /// hex) the hook accepts.
    pub fn keep_file(&self) -> PathBuf {
        self.base.join("keep")
    }

    /// The agent's log.
    pub fn log(&self) -> String {
        fs::read_to_string(self.base.join("agent.log")).unwrap_or_default()
    }

    fn write_hook(&self) -> PathBuf {
        let out = self.base.join("out");
        let tls = out.join("tls");
        let script = self.base.join("restart-web.sh");
        let text = format!(
            r#"#!/bin/sh
# Restarts web: refuses a certificate other than the one named in {keep} (when it
# exists), does nothing when the running s_server already serves the deployed one,
# otherwise stops it, waits until its port is free, starts a new one with the deployed
# PEM pair and waits until it accepts.
set -u
want=$(openssl x509 -in {crt} -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
if [ -f {keep} ] && [ "$want" != "$(cat {keep})" ]; then
  echo "refusing certificate $want" >&2
  exit 1
fi
if [ -f {pid} ] && kill -0 "$(cat {pid})" 2>/dev/null; then
  served=$(openssl s_client -connect {addr} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
  # Already serving these files (a rollback's second run): nothing to restart.
  if [ "$served" = "$want" ]; then exit 0; fi
fi
if [ -f {pid} ]; then
  kill "$(cat {pid})" 2>/dev/null
  i=0
  while openssl s_client -connect {addr} </dev/null >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then echo "the old s_server still listens" >&2; exit 1; fi
    sleep 0.1
  done
fi
openssl s_server -accept {addr} -www -cert {crt} -cert_chain {crt} -key {key} </dev/null >>{log} 2>&1 &
echo $! > {pid}
i=0
until openssl s_client -connect {addr} </dev/null >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 600 ]; then echo "s_server did not start" >&2; exit 1; fi
  sleep 0.1
done
"#,
            keep = arg(&self.keep_file()),
            pid = arg(&self.base.join("s_server.pid")),
            addr = self.addr,
            crt = arg(&tls.join(format!("web-{}.crt", self.number))),
            key = arg(&tls.join(format!("web-{}.key", self.number))),
            log = arg(&self.base.join("s_server.log")),
        );
        fs::write(&script, text).unwrap();
        script
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.agent.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Ok(pid) = fs::read_to_string(self.base.join("s_server.pid")) {
            // Best effort: the test is over either way.
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// The running platform.
pub struct Platform {
    /// Everything of the test (kept until the end).
    pub dir: TempDir,
    /// The server.
    pub server: Server,
    /// The three nodes.
    pub nodes: Vec<Node>,
    /// The platform's root CA certificate.
    pub root: PathBuf,
}

impl Platform {
    /// Makes the CA and the model, starts the server, enrols three agents and starts
    /// them.
    pub fn start() -> Platform {
        let dir = TempDir::new();
        let platform_dir = dir.join("platform");
        fs::create_dir(&platform_dir).unwrap();
        assert_ok(&certfleet(&[
            "ca",
            "init",
            "--out",
            arg(&platform_dir.join("ca")),
            "--cn",
            "Shop Root CA",
            "--intermediate-cn",
            "Shop Issuing CA",
        ]));
        let listeners: Vec<SocketAddr> = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
            .iter()
            .map(|ip| free_addr_on(ip))
            .collect();
        let model_file = platform_dir.join("shop.toml");
        fs::write(&model_file, model(&listeners)).unwrap();
        fs::set_permissions(&model_file, fs::Permissions::from_mode(0o600)).unwrap();
        let serve_dir = dir.join("serve");
        fs::create_dir(&serve_dir).unwrap();
        let mut config = ServeConfig::new(&serve_dir);
        config.listener("edge", None, None);
        let agents = free_addr();
        config.append(&format!(
            "[agents]\nlisten = \"{agents}\"\n\n[[platform]]\nmodel = {:?}\n",
            arg(&model_file)
        ));
        let server = config.start();
        wait_listening(agents);
        let mut platform = Platform {
            root: platform_dir.join("ca").join("root.crt"),
            dir,
            server,
            nodes: Vec::new(),
        };
        for (i, addr) in listeners.iter().enumerate() {
            let node = platform.enrol(i + 1, *addr, &format!("https://{agents}"));
            platform.nodes.push(node);
        }
        platform
    }

    fn admin_flags(&self) -> [String; 4] {
        [
            "--server".into(),
            format!("https://{}", self.server.admin),
            "--data-dir".into(),
            arg(&self.server.data_dir).to_owned(),
        ]
    }

    /// `certfleet ARGS... --server ADMIN --data-dir DATA`, which must succeed; stdout.
    pub fn admin(&self, args: &[&str]) -> String {
        let flags = self.admin_flags();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(flags.iter().map(String::as_str));
        let out = certfleet(&all);
        assert_ok(&out);
        stdout(&out)
    }

    fn enrol(&self, number: usize, addr: SocketAddr, agents_url: &str) -> Node {
        let name = &format!("n{number}");
        let base = self.dir.join(name);
        let data = base.join("data");
        fs::create_dir_all(&base).unwrap();
        let token = self.admin(&["node", "token", name, "--platform", PLATFORM]);
        let enrolled = certfleet(&[
            "agent",
            "enroll",
            "--server",
            agents_url,
            "--token",
            &format!("pass:{}", token.trim()),
            "--data-dir",
            arg(&data),
        ]);
        assert_ok(&enrolled);
        let mut node = Node {
            server_name: format!("{name}.shop.test"),
            name: name.to_owned(),
            addr,
            number,
            base: base.clone(),
            agent: None,
        };
        let script = node.write_hook();
        let config = format!(
            "root = {:?}\n\n[hooks]\nrestart-web = {:?}\n",
            arg(&base.join("out")),
            format!("sh {}", arg(&script))
        );
        let config_file = data.join("agent.toml");
        fs::write(&config_file, config).unwrap();
        fs::set_permissions(&config_file, fs::Permissions::from_mode(0o600)).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(["agent", "run", "--data-dir", arg(&data)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(base.join("agent.log")).unwrap())
            .spawn()
            .expect("failed to start certfleet agent run");
        node.agent = Some(child);
        node
    }

    /// An admin API request with the admin token.
    pub fn api(&self, method: &str, path: &str) -> Answer {
        let token = fs::read_to_string(self.server.data_dir.join("admin.token")).unwrap();
        request(
            method,
            &format!("https://{}{path}", self.server.admin),
            &[format!("Authorization: Bearer {}", token.trim())],
            None,
        )
    }

    /// `certfleet nodes --json`: (node, state, deployed thumbprint) of each node's one
    /// service.
    pub fn states(&self) -> Vec<(String, String, String)> {
        let answer: serde_json::Value =
            serde_json::from_str(&self.admin(&["nodes", "--json"])).unwrap();
        answer["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("no nodes in {answer}"))
            .iter()
            .map(|node| {
                let service = &node["services"][0];
                (
                    node["node"].as_str().unwrap_or_default().to_owned(),
                    service["state"].as_str().unwrap_or_default().to_owned(),
                    service["deployed"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// The rollout's audit records (`agent-rollout`), oldest first: (action, service).
    pub fn rollout_audit(&self) -> Vec<(String, String)> {
        let answer = self.api("GET", "/api/audit?limit=500");
        assert_eq!(answer.status, 200, "{}", answer.body);
        let page = answer.json();
        let mut list: Vec<(String, String)> = page["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["actor"] == "agent-rollout")
            .map(|r| {
                (
                    r["action"].as_str().unwrap().to_owned(),
                    r["object"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        list.reverse();
        list
    }

    /// The agents' and the server's logs, for a failure message.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for node in &self.nodes {
            text.push_str(&format!("--- agent {}:\n{}\n", node.name, node.log()));
        }
        text.push_str(&format!("--- server:\n{}", self.server.logs()));
        text
    }
}
