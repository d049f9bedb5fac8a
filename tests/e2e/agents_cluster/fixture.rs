//! The cluster the agents' cluster test runs: a real three-member etcd cluster, two
//! `certfleet serve` servers A and B sharing it and one master key, each with an agent
//! listener and the same `[[platform]]` (an internal CA, three nodes on 127.0.0.1,
//! 127.0.0.2 and 127.0.0.3, `web-N` on `nN` in one rollout group with
//! `max_unavailable = 1`), and per node an nginx of the test's own that the node's hook
//! reloads gracefully; what the test judges with: the audit log's rollout records, what
//! `certfleet nodes --json` shows, the rollout record in etcd.

use crate::agents::fixture::{wait_listening, Node, PLATFORM};
use crate::agents::fleet::{free_addr_on, model_head_with, node_fqdn, node_ip};
use crate::agents::services::{bootstrap_files, Nginx};
use crate::agents_rollout::fixture::rollout_records;
pub use crate::agents_rollout::fixture::Record;
use crate::support::etcd_cluster::EtcdCluster;
use crate::support::https::request;
use crate::support::run::{arg, assert_ok, certfleet, describe, stdout, TempDir};
use crate::support::serve::{free_addr, ServeConfig, Server};
use base64::Engine as _;
use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The rollout group of the three services (their `kind`).
pub const GROUP: &str = "nginx";
/// The hook every node defines: nginx's graceful reload.
pub const HOOK: &str = "reload-web";

/// The model: the three nodes, `web-N` on `nN` listening on `listeners[N-1]` with a PEM
/// pair `tls/web-N.crt|key`, all of kind [`GROUP`].
pub fn model(listeners: &[SocketAddr]) -> String {
    let mut text = model_head_with("ecdsa-p256", "max_unavailable = 1\n");
    for (i, addr) in listeners.iter().enumerate() {
        let n = i + 1;
        text.push_str(&format!(
            "\n[[service]]\nname = \"web-{n}\"\nnode = \"n{n}\"\nkind = \"{GROUP}\"\nlisteners = [\"{addr}\"]\nhook = \"{HOOK}\"\n\n[[service.output]]\nformat = \"pem-pair\"\npath = \"tls/web-{n}\"\n"
        ));
    }
    text
}

/// One `certfleet serve` of the cluster.
pub struct Member {
    /// `A` or `B`.
    pub name: &'static str,
    /// The process (SIGKILLed when dropped or killed), None once killed.
    server: Mutex<Option<Server>>,
    /// Its admin listener.
    admin: SocketAddr,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Its agent listener's URL.
    pub agents_url: String,
}

impl Member {
    /// Starts a server under `parent/name` on `cluster` with an agent listener and the
    /// model `model_file`; with `master_key_of`, that data directory's `master.key` is
    /// copied (0600, in a 0700 directory) into the new server's data directory first.
    pub fn start(
        parent: &Path,
        name: &'static str,
        cluster: &EtcdCluster,
        model_file: &Path,
        master_key_of: Option<&Path>,
    ) -> Member {
        let dir = parent.join(name);
        fs::create_dir_all(&dir).unwrap();
        let mut config = ServeConfig::new(&dir);
        config.listener("edge", None, None);
        let agents = free_addr();
        config.append(&format!(
            "[agents]\nlisten = \"{agents}\"\n\n[[platform]]\nmodel = {:?}\n",
            arg(model_file)
        ));
        config.append(&cluster.store_toml());
        if let Some(source) = master_key_of {
            fs::create_dir_all(&config.data_dir).unwrap();
            fs::set_permissions(&config.data_dir, fs::Permissions::from_mode(0o700)).unwrap();
            let target = config.data_dir.join("master.key");
            fs::copy(source.join("master.key"), &target).unwrap();
            fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let server = config.start();
        wait_listening(agents, "the agent listener");
        Member {
            name,
            admin: server.admin,
            data_dir: server.data_dir.clone(),
            server: Mutex::new(Some(server)),
            agents_url: format!("https://{agents}"),
        }
    }

    /// SIGKILLs the server (a crash).
    pub fn kill(&self) {
        let server = self.lock().take();
        assert!(server.is_some(), "server {} was already killed", self.name);
        drop(server); // Server's Drop: SIGKILL.
    }

    /// Everything the server printed, as long as it ran.
    pub fn logs(&self) -> String {
        self.lock().as_ref().map(Server::logs).unwrap_or_else(|| {
            // Killed: its log files are still beside its configuration.
            let dir = self.data_dir.parent().unwrap();
            ["serve-1.out", "serve-1.err"]
                .iter()
                .map(|f| fs::read_to_string(dir.join(f)).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Server>> {
        self.server.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `certfleet ARGS... --server ADMIN --data-dir DATA` against this server, which must
    /// succeed: its standard output.
    pub fn admin(&self, args: &[&str]) -> String {
        let server = format!("https://{}", self.admin);
        let mut all = args.to_vec();
        all.extend(["--server", &server, "--data-dir"]);
        all.push(arg(&self.data_dir));
        let out = certfleet(&all);
        assert!(
            out.status.success(),
            "{args:?} on server {}: {}\n{}",
            self.name,
            describe(&out),
            self.logs()
        );
        stdout(&out)
    }

    /// A fresh enrolment token for `node` made on this server.
    pub fn token(&self, node: &str) -> String {
        let token = self
            .admin(&["node", "token", node, "--platform", PLATFORM])
            .trim()
            .to_owned();
        assert!(token.starts_with("cfa1."), "{token}");
        token
    }

    /// `certfleet nodes --json` on this server.
    pub fn nodes(&self) -> serde_json::Value {
        let out = self.admin(&["nodes", "--json"]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// The rollout records of the audit log as this server answers them, oldest first.
    pub fn rollout_audit(&self) -> Vec<Record> {
        let token = fs::read_to_string(self.data_dir.join("admin.token")).unwrap();
        let answer = request(
            "GET",
            &format!("https://{}/api/audit?limit=500", self.admin),
            &[format!("Authorization: Bearer {}", token.trim())],
            None,
        );
        assert_eq!(answer.status, 200, "server {}: {}", self.name, answer.body);
        rollout_records(&answer.json())
    }
}

/// One node: its agent's files, its address and its nginx.
pub struct Site {
    /// `n1`, `n2`, `n3`.
    pub name: String,
    /// The SNI its service answers (`nN.shop.test`).
    pub server_name: String,
    /// Where `web-N` listens.
    pub addr: SocketAddr,
    /// The agent's data directory, output root and `agent.toml`.
    pub files: Node,
    /// The service.
    pub nginx: Nginx,
}

impl Site {
    /// The deployed certificate of `web-N`.
    pub fn crt(&self) -> PathBuf {
        self.files.file(&format!("tls/{}.crt", self.service()))
    }

    /// `web-N`.
    pub fn service(&self) -> String {
        self.name.replacen('n', "web-", 1)
    }

    /// Writes `agent.toml` with `servers` (in that order) and the nginx reload hook.
    pub fn configure(&self, servers: &[&Member]) {
        let urls: Vec<String> = servers.iter().map(|m| m.agents_url.clone()).collect();
        self.files
            .write_config_with_servers(&urls, &[(HOOK, self.nginx.hook())]);
    }
}

/// Enrols node `n` (1 to 3) through `enrol_at` with `token`, and starts its nginx on a
/// self-signed certificate where the agent will deploy.
pub fn enrol_site(
    dir: &TempDir,
    n: usize,
    addr: SocketAddr,
    token: &str,
    enrol_at: &Member,
) -> Site {
    let name = format!("n{n}");
    let base = dir.join(&name);
    fs::create_dir(&base).unwrap();
    let data = base.join("data");
    let enrolled = certfleet(&[
        "agent",
        "enroll",
        "--server",
        &enrol_at.agents_url,
        "--token",
        &format!("pass:{token}"),
        "--data-dir",
        arg(&data),
    ]);
    assert_ok(&enrolled);
    assert!(
        stdout(&enrolled).contains(&format!("enrolled node {name} of platform {PLATFORM}")),
        "{}",
        describe(&enrolled)
    );
    let files = Node {
        out: base.join("out"),
        base,
        data,
    };
    let prefix = files.file(&format!("tls/web-{n}"));
    bootstrap_files(&prefix, &node_fqdn(n), None);
    let nginx = Nginx::start(
        &files.base,
        addr,
        &node_fqdn(n),
        &prefix.with_extension("crt"),
        &prefix.with_extension("key"),
        None,
    );
    Site {
        name,
        server_name: node_fqdn(n),
        addr,
        files,
        nginx,
    }
}

/// A port nobody listens on right now on node `n`'s address.
pub fn site_addr(n: usize) -> SocketAddr {
    free_addr_on(&node_ip(n))
}

/// The rollout record of the group as etcd holds it (its JSON, `None` when there is
/// none), read through a member's JSON gateway (`/v3/kv/range` of its one key); `Err`
/// when no member answered within 5 s (a busy machine), so a watcher can look again.
pub fn stored_rollout(cluster: &EtcdCluster) -> Result<Option<serde_json::Value>, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = format!("certfleet/kv/agents/rollouts/{PLATFORM}/{GROUP}");
    let body = format!("{{\"key\":\"{}\"}}", b64.encode(&key));
    let mut failures = Vec::new();
    for endpoint in cluster.endpoints() {
        let addr: SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
        match post_json(addr, "/v3/kv/range", &body) {
            Ok(answer) => {
                let answer: serde_json::Value = serde_json::from_str(&answer)
                    .unwrap_or_else(|e| panic!("{endpoint} answered no JSON ({e}): {answer}"));
                let Some(value) = answer["kvs"][0]["value"].as_str() else {
                    return Ok(None);
                };
                let bytes = b64.decode(value).unwrap();
                return Ok(Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                    panic!(
                        "{key} holds no JSON ({e}): {}",
                        String::from_utf8_lossy(&bytes)
                    )
                })));
            }
            Err(why) => failures.push(format!("{endpoint}: {why}")),
        }
    }
    Err(failures.join("; "))
}

/// One HTTP/1.0 POST of a JSON `body` to `addr` (5 s limits): the body of a 200 answer.
fn post_json(addr: SocketAddr, path: &str, body: &str) -> Result<String, String> {
    let limit = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, limit).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(limit))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(limit))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("a truncated answer: {answer}"))?;
    match head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
    {
        Some("200") => Ok(body.to_owned()),
        _ => Err(format!("answered {head}")),
    }
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
