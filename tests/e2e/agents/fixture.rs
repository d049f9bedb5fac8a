//! The platform the agent tests deploy: an internal CA made with `certfleet ca init`, a
//! model with two nodes on loopback, a real `certfleet serve` with an agent listener and
//! the model as its `[[platform]]`, and one scratch node per agent (data directory,
//! output root, `agent.toml`) enrolled with a token from `certfleet node token`.

use crate::support::run::{arg, assert_ok, certfleet, describe, stdout, TempDir};
use crate::support::serve::{free_addr, ServeConfig, Server};
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The model's `[platform] name`.
pub const PLATFORM: &str = "shop";

/// The platform model: `web` on node-a serves on `listener` with a PEM pair, a PKCS#12
/// keystore (password made on the node) and a PEM trust store, hook `restart-web`;
/// node-b runs `app` (a mutual-TLS client of `web`: JKS keystore and trust store with the
/// model's password, hook `reload-app`) and `batch` (hook `flush-batch`).
fn model(listener: SocketAddr) -> String {
    format!(
        r#"[platform]
name = "{PLATFORM}"
ca = "internal"
ca_dir = "ca"
key = "ecdsa-p256"
days = 30
reload_timeout = "60s"

[[node]]
name = "node-a"
fqdn = "web.shop.test"
ips = ["127.0.0.1"]

[[node]]
name = "node-b"
fqdn = "app.shop.test"
ips = ["127.0.0.1"]

[[service]]
name = "web"
node = "node-a"
listeners = ["{listener}"]
hook = "restart-web"

[[service.output]]
format = "pem-pair"
path = "tls/web"

[[service.output]]
format = "pkcs12"
path = "tls/web.p12"
alias = "web"

[[service.output]]
format = "pem-trust"
path = "tls/trust.pem"

[[service]]
name = "app"
node = "node-b"
hook = "reload-app"

[[service.output]]
format = "jks"
path = "app/keystore.jks"
alias = "app"
password = "changeit"

[[service.output]]
format = "jks-trust"
path = "app/truststore.jks"
password = "changeit"

[[service]]
name = "batch"
node = "node-b"
hook = "flush-batch"

[[service.output]]
format = "pem-pair"
path = "batch/batch"

[[connection]]
from = "app"
to = "web"
mtls = true
"#
    )
}

/// The running platform.
pub struct Platform {
    /// Everything of the test.
    pub dir: TempDir,
    /// The server.
    pub server: Server,
    /// Its agent listener.
    pub agents: SocketAddr,
    /// Its agent listener's URL.
    pub agents_url: String,
    /// Where `web` listens (the model's listener).
    pub web_listener: SocketAddr,
    /// The model file the server reads.
    pub model_file: PathBuf,
}

/// Waits until `addr` accepts connections.
pub fn wait_listening(addr: SocketAddr, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Platform {
    /// Makes the CA and the model and starts the server with an agent listener.
    pub fn start() -> Platform {
        let web_listener = free_addr();
        Platform::start_with_model(&model(web_listener), web_listener)
    }

    /// Makes the CA with `certfleet ca init`, writes `model` (its `ca_dir` is `ca`) and
    /// starts a server with an agent listener and the model as its `[[platform]]`;
    /// `web_listener` is where the model's `web` listens, if it has one.
    pub fn start_with_model(model: &str, web_listener: SocketAddr) -> Platform {
        Platform::start_with_model_and(model, web_listener, "")
    }

    /// As [`Platform::start_with_model`], with `agents_keys` (lines) added to the
    /// server's `[agents]` block.
    pub fn start_with_model_and(
        model: &str,
        web_listener: SocketAddr,
        agents_keys: &str,
    ) -> Platform {
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
        let model_file = platform_dir.join("shop.toml");
        fs::write(&model_file, model).unwrap();
        fs::set_permissions(&model_file, fs::Permissions::from_mode(0o600)).unwrap();
        let serve_dir = dir.join("serve");
        fs::create_dir(&serve_dir).unwrap();
        let mut config = ServeConfig::new(&serve_dir);
        // A listener of its own: without one the server takes the default port.
        config.listener("edge", None, None);
        let agents = free_addr();
        config.append(&format!(
            "[agents]\nlisten = \"{agents}\"\n{agents_keys}\n[[platform]]\nmodel = {:?}\n",
            arg(&model_file)
        ));
        let server = config.start();
        wait_listening(agents, "the agent listener");
        Platform {
            dir,
            server,
            agents,
            agents_url: format!("https://{agents}"),
            web_listener,
            model_file,
        }
    }

    /// A fresh enrolment token for `node` (`certfleet node token`, the token alone on
    /// standard output).
    pub fn token(&self, node: &str) -> String {
        let admin = format!("https://{}", self.server.admin);
        let out = certfleet(&[
            "node",
            "token",
            node,
            "--platform",
            PLATFORM,
            "--server",
            &admin,
            "--data-dir",
            arg(&self.server.data_dir),
        ]);
        assert_ok(&out);
        let token = stdout(&out).trim().to_owned();
        assert!(token.starts_with("cfa1."), "{}", describe(&out));
        token
    }

    /// `certfleet nodes --json`.
    pub fn nodes(&self) -> serde_json::Value {
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
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON: {e}\n{}", describe(&out)))
    }

    /// Enrols an agent for `node` in a scratch directory of its own, with `hooks` in its
    /// `agent.toml` and its outputs under its own root.
    pub fn enroll(&self, node: &str, hooks: &[(&str, String)]) -> Node {
        let base = self.dir.join(node);
        fs::create_dir(&base).unwrap();
        let data = base.join("data");
        let out = base.join("out");
        let token = self.token(node);
        let enrolled = certfleet(&[
            "agent",
            "enroll",
            "--server",
            &self.agents_url,
            "--token",
            &format!("pass:{token}"),
            "--data-dir",
            arg(&data),
        ]);
        assert_ok(&enrolled);
        assert!(
            stdout(&enrolled).contains(&format!("enrolled node {node} of platform {PLATFORM}")),
            "{}",
            describe(&enrolled)
        );
        let node = Node { base, data, out };
        node.write_config(hooks);
        node
    }
}

/// One node's agent.
pub struct Node {
    /// The node's scratch directory.
    pub base: PathBuf,
    /// The agent's data directory.
    pub data: PathBuf,
    /// The root its outputs are written under.
    pub out: PathBuf,
}

impl Node {
    /// Writes `agent.toml` (0600): the output root and `hooks`.
    pub fn write_config(&self, hooks: &[(&str, String)]) {
        self.write_config_with_servers(&[], hooks);
    }

    /// Writes `agent.toml` (0600): `servers` (when any), the output root and `hooks`.
    pub fn write_config_with_servers(&self, servers: &[String], hooks: &[(&str, String)]) {
        let mut config = String::new();
        if !servers.is_empty() {
            config.push_str(&format!("servers = {servers:?}\n"));
        }
        config.push_str(&format!("root = {:?}\n\n[hooks]\n", arg(&self.out)));
        for (name, command) in hooks {
            config.push_str(&format!("{name} = {command:?}\n"));
        }
        let config_file = self.data.join("agent.toml");
        fs::write(&config_file, config).unwrap();
        fs::set_permissions(&config_file, fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// Replaces the hooks with `name` = `command` alone.
    pub fn set_hook(&self, name: &str, command: &str) {
        self.write_config(&[(name, command.to_owned())]);
    }

    /// `certfleet agent run --once`.
    pub fn run_once(&self) -> Output {
        certfleet(&["agent", "run", "--once", "--data-dir", arg(&self.data)])
    }

    /// `certfleet agent run` in the background, its log in `BASE/agent.log`.
    pub fn spawn_run(&self) -> RunningAgent {
        let log = self.base.join("agent.log");
        let child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(["agent", "run", "--data-dir", arg(&self.data)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .expect("failed to start certfleet agent run");
        RunningAgent { child, log }
    }

    /// The line `run --once` printed for `service`.
    pub fn line<'a>(out: &'a str, service: &str) -> &'a str {
        out.lines()
            .find(|l| l.starts_with(&format!("{service} ")))
            .unwrap_or_else(|| panic!("no line for {service} in:\n{out}"))
    }

    /// An output file under the node's root.
    pub fn file(&self, path: &str) -> PathBuf {
        self.out.join(path)
    }

    /// The password the agent made for the keystore at `path` (`agent passwords --json`).
    pub fn password(&self, path: &Path) -> String {
        let out = certfleet(&[
            "agent",
            "passwords",
            "--json",
            "--data-dir",
            arg(&self.data),
        ]);
        assert_ok(&out);
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == arg(path))
            .and_then(|e| e["password"].as_str())
            .unwrap_or_else(|| panic!("no password for {}: {list}", path.display()))
            .to_owned()
    }
}

/// The mode bits of a file.
pub fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// A `certfleet agent run`, killed when dropped.
pub struct RunningAgent {
    child: Child,
    log: PathBuf,
}

impl RunningAgent {
    /// What it logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with its log when it has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("certfleet agent run exited ({status}):\n{}", self.log());
        }
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `done` every 200 ms for up to two minutes; panics naming `what` (and showing
/// `agent`'s log) when it never holds.
pub fn wait_until(what: &str, agent: &mut RunningAgent, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        agent.assert_running();
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 120 s\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
