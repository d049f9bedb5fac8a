//! The certfleet side: the server (the real binary) with its agent listener and a
//! platform of one node per agent, the nodes' enrolment through the admin API, and the
//! simulated agents' assignment long polls.

use crate::admin_client::pinned_admin;
use certfleet_agent::data_dir::DataDir;
use certfleet_agent::enroll::{enroll, Token};
use certfleet_api::agent::{Assignment, PREFIX};
use certfleet_api::nodes::NodeToken;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;
use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The model's platform.
const PLATFORM: &str = "fleet";
/// The threads that enrol nodes at once.
const ENROLLERS: usize = 4;

/// One answer an agent got: which agent, the revision and when it arrived.
pub struct Seen {
    pub agent: usize,
    pub revision: u64,
    pub at: Instant,
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The model: `nodes` nodes, each running one service of the internal CA with one
/// output and a hook, and `reload_timeout` seconds as the platform's hook limit.
fn model(nodes: usize, reload_timeout: usize) -> String {
    let mut text = format!(
        "[platform]\nname = \"{PLATFORM}\"\nca = \"internal\"\nca_dir = \"ca\"\ndays = 30\n\
         reload_timeout = \"{reload_timeout}s\"\n"
    );
    for n in 0..nodes {
        text.push_str(&format!(
            "\n[[node]]\nname = \"{}\"\nfqdn = \"{}.fleet.test\"\nips = [\"10.{}.{}.{}\"]\n",
            node_name(n),
            node_name(n),
            n / 65536,
            (n / 256) % 256,
            n % 256
        ));
    }
    for n in 0..nodes {
        text.push_str(&format!(
            "\n[[service]]\nname = \"app-{n:04}\"\nnode = \"{}\"\nhook = \"reload\"\n\n\
             [[service.output]]\nformat = \"pem-pair\"\npath = \"tls/app-{n:04}\"\n",
            node_name(n)
        ));
    }
    text
}

fn node_name(n: usize) -> String {
    format!("n{n:04}")
}

/// `certfleet ARGS...`, which must succeed.
fn certfleet(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "certfleet {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The running server and the agents' identities.
pub struct Fleet {
    child: Child,
    dir: PathBuf,
    model_file: PathBuf,
    agents_addr: SocketAddr,
    identities: Vec<Arc<ClientConfig>>,
    errors: Arc<AtomicUsize>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
    }
}

impl Fleet {
    /// Makes the CA and the model, starts the server and enrols `agents` nodes.
    pub fn start(dir: &Path, agents: usize) -> Fleet {
        let platform_dir = dir.join("platform");
        fs::create_dir_all(&platform_dir).unwrap();
        certfleet(&[
            "ca",
            "init",
            "--out",
            arg(&platform_dir.join("ca")),
            "--cn",
            "Fleet Bench Root",
            "--intermediate-cn",
            "Fleet Bench Issuing",
        ]);
        let model_file = platform_dir.join("fleet.toml");
        fs::write(&model_file, model(agents, 30)).unwrap();
        let data_dir = dir.join("data");
        let [admin, http, agents_addr] = [free_addr(), free_addr(), free_addr()];
        let config = dir.join("certfleet.toml");
        fs::write(
            &config,
            format!(
                "data_dir = {:?}\n\n[admin]\nlisten = \"{admin}\"\n\n[http]\nlisten = \
                 \"{http}\"\n\n[agents]\nlisten = \"{agents_addr}\"\n\n[[platform]]\nmodel \
                 = {:?}\n",
                arg(&data_dir),
                arg(&model_file)
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(["serve", "--config", arg(&config)])
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("serve.out")).unwrap())
            .stderr(fs::File::create(dir.join("serve.err")).unwrap())
            .spawn()
            .expect("cannot start certfleet serve");
        let mut fleet = Fleet {
            child,
            dir: dir.to_owned(),
            model_file,
            agents_addr,
            identities: Vec::new(),
            errors: Arc::new(AtomicUsize::new(0)),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !(data_dir.join("admin.token").exists()
            && data_dir.join("default.pem").exists()
            && [admin, agents_addr]
                .iter()
                .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok()))
        {
            if let Some(status) = fleet.child.try_wait().unwrap() {
                panic!("certfleet serve exited early ({status})");
            }
            assert!(
                Instant::now() < deadline,
                "the server was not ready in 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let admin = Admin::new(admin, &data_dir);
        let url = format!("https://{agents_addr}");
        let agents_dir = dir.join("agents");
        let per_thread = agents.div_ceil(ENROLLERS);
        let mut identities: Vec<(usize, Arc<ClientConfig>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..ENROLLERS)
                .map(|worker| {
                    let (admin, url, agents_dir) = (&admin, &url, &agents_dir);
                    scope.spawn(move || {
                        let first = worker * per_thread;
                        let last = (first + per_thread).min(agents);
                        (first..last)
                            .map(|n| (n, enrol(admin, url, &agents_dir.join(node_name(n)), n)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        identities.sort_by_key(|(n, _)| *n);
        fleet.identities = identities.into_iter().map(|(_, tls)| tls).collect();
        fleet
    }

    pub fn server_pid(&self) -> u32 {
        self.child.id()
    }

    /// The agents' failed requests so far.
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }

    /// The end of the server's log.
    pub fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.join("serve.err")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Replaces the model with one whose `reload_timeout` differs (for change
    /// number `change`): every assignment changes. The instant the new file is in
    /// place.
    pub fn change_model(&self, change: usize) -> Instant {
        let next = self.model_file.with_extension("toml.next");
        fs::write(&next, model(self.identities.len(), 30 + change)).unwrap();
        fs::rename(&next, &self.model_file).unwrap();
        Instant::now()
    }

    /// Starts one task per agent, each polling its assignment and sending every
    /// answer to `seen`. Call inside the runtime.
    pub fn spawn_agents(
        &self,
        seen: mpsc::UnboundedSender<Seen>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        self.identities
            .iter()
            .enumerate()
            .map(|(agent, tls)| {
                let (tls, seen) = (Arc::clone(tls), seen.clone());
                let (addr, errors) = (self.agents_addr, Arc::clone(&self.errors));
                tokio::spawn(async move {
                    let mut after = None;
                    loop {
                        match assignment(&tls, addr, after).await {
                            Ok(answer) => {
                                after = Some(answer.revision);
                                let at = Instant::now();
                                let revision = answer.revision;
                                if seen
                                    .send(Seen {
                                        agent,
                                        revision,
                                        at,
                                    })
                                    .is_err()
                                {
                                    return;
                                }
                            }
                            Err(_) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                        }
                    }
                })
            })
            .collect()
    }
}

/// Gets node `n` a token and enrols it into `data`: its mutual-TLS settings.
fn enrol(admin: &Admin, url: &str, data: &Path, n: usize) -> Arc<ClientConfig> {
    let path = format!("/api/platforms/{PLATFORM}/nodes/{}/tokens", node_name(n));
    let answer: NodeToken = serde_json::from_str(&admin.post(&path, "{}")).unwrap();
    let data = DataDir::new(data);
    let token = Token::parse(&answer.token).unwrap();
    enroll(&data, url, &token).unwrap();
    certfleet_agent::identity::tls_config(&data).unwrap()
}

/// One `GET /agent/v1/assignment[?after=REV]` on a connection of its own.
async fn assignment(
    tls: &Arc<ClientConfig>,
    addr: SocketAddr,
    after: Option<u64>,
) -> Result<Assignment, Box<dyn std::error::Error + Send + Sync>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::from(addr.ip());
    let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
        .connect(name, tcp)
        .await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends with the request; its errors show in the response.
        let _ = connection.await;
    });
    let path = match after {
        Some(revision) => format!("{PREFIX}/assignment?after={revision}"),
        None => format!("{PREFIX}/assignment"),
    };
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, addr.to_string())
        .body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(serde_json::from_slice(&body)?)
}

/// The admin API with the server's admin token, its certificate pinned.
struct Admin {
    addr: SocketAddr,
    token: String,
    tls: Arc<ClientConfig>,
}

impl Admin {
    fn new(addr: SocketAddr, data_dir: &Path) -> Admin {
        let (token, tls) = pinned_admin(data_dir);
        Admin { addr, token, tls }
    }

    /// `POST path` with a JSON `body`, which must succeed: the answer's body.
    fn post(&self, path: &str, body: &str) -> String {
        let tcp = TcpStream::connect(self.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let conn =
            ClientConnection::new(Arc::clone(&self.tls), ServerName::from(self.addr.ip())).unwrap();
        let mut stream = StreamOwned::new(conn, tcp);
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Accept: application/json\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            self.token,
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        // The server closes without close_notify at times: what was read counts.
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n").expect("no HTTP answer");
        assert!(
            head.starts_with("HTTP/1.1 2"),
            "POST {path}: {head}\n{body}"
        );
        body.to_owned()
    }
}
