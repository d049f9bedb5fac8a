//! The two certfleet nodes of the run: the leaves they are given, the processes,
//! and each node's admin API as the bench writes to it.

use super::*;
use crate::admin_client::pinned_admin;

/// One leaf of the CA for [`NAME`]: its merged bundle (what `set-cert` takes) and DER.
pub(crate) struct Leaf {
    pub(crate) pem: String,
    pub(crate) der: Vec<u8>,
}

impl Leaf {
    /// `certfleet cert issue --ca CA --cn NAME --out DIR/leaf-INDEX` (ECDSA P-256).
    pub(crate) fn issue(ca: &Path, dir: &Path, index: usize) -> Leaf {
        let prefix = dir.join(format!("leaf-{index}"));
        certfleet(&[
            "cert",
            "issue",
            "--ca",
            arg(ca),
            "--cn",
            NAME,
            "--days",
            "30",
            "--out",
            arg(&prefix),
        ]);
        let file = |ending: &str| {
            let mut path = prefix.clone().into_os_string();
            path.push(ending);
            PathBuf::from(path)
        };
        let der = CertificateDer::from_pem_file(file(".crt")).unwrap();
        Leaf {
            pem: fs::read_to_string(file(".pem")).unwrap(),
            der: der.as_ref().to_vec(),
        }
    }
}

/// A path as a command-line argument.
pub(crate) fn arg(path: &Path) -> &str {
    path.to_str().expect("a temporary path that is UTF-8")
}

/// The certfleet binary the bench runs: `BENCH_CERTFLEET` when set (another build, to
/// compare two in one session), else the one cargo built with the bench.
pub(crate) fn certfleet_binary() -> PathBuf {
    std::env::var_os("BENCH_CERTFLEET")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_certfleet")))
}

/// Runs `certfleet ARGS`, which must succeed.
pub(crate) fn certfleet(args: &[&str]) {
    let out = Command::new(certfleet_binary())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run certfleet");
    assert!(
        out.status.success(),
        "certfleet {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One running `certfleet serve`.
pub(crate) struct Node {
    pub(crate) name: &'static str,
    pub(crate) child: Child,
    pub(crate) dir: PathBuf,
    pub(crate) data_dir: PathBuf,
    pub(crate) admin: SocketAddr,
    pub(crate) https: SocketAddr,
}

impl Node {
    /// Starts node `name` under `parent/name` on the etcd at `endpoints`, with the master
    /// key of the data directory `master_key_of` when given, and waits until it is ready.
    pub(crate) fn start(
        parent: &Path,
        name: &'static str,
        endpoints: &[String],
        master_key_of: Option<&Path>,
        startup: Duration,
    ) -> Node {
        let dir = parent.join(name);
        let data_dir = dir.join("data");
        fs::create_dir_all(&dir).unwrap();
        // Held together while picking, so that the three ports differ.
        let held: Vec<TcpListener> = (0..3)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let [admin, http, https] = [0, 1, 2].map(|i| held[i].local_addr().unwrap());
        drop(held);
        let endpoints: Vec<String> = endpoints.iter().map(|e| format!("{e:?}")).collect();
        let config = dir.join("certfleet.toml");
        fs::write(
            &config,
            format!(
                "data_dir = {:?}\n\n[admin]\nlisten = \"{admin}\"\n\n[http]\nlisten = \"{http}\"\n\n\
                 [[listener]]\nrole = \"ws\"\nhttps = \"{https}\"\n\n\
                 [store]\nbackend = \"etcd\"\netcd_endpoints = [{}]\n",
                arg(&data_dir),
                endpoints.join(", ")
            ),
        )
        .unwrap();
        if let Some(source) = master_key_of {
            fs::create_dir_all(&data_dir).unwrap();
            fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o700)).unwrap();
            let target = data_dir.join("master.key");
            fs::copy(source.join("master.key"), &target).unwrap();
            fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let child = Command::new(certfleet_binary())
            .args(["serve", "--config", arg(&config)])
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("serve.out")).unwrap())
            .stderr(fs::File::create(dir.join("serve.err")).unwrap())
            .spawn()
            .expect("cannot start certfleet serve");
        let mut node = Node {
            name,
            child,
            dir,
            data_dir,
            admin,
            https,
        };
        let deadline = Instant::now() + startup;
        let ready = |node: &Node| {
            node.data_dir.join("admin.token").exists()
                && node.data_dir.join("default.pem").exists()
                && [admin, http, https]
                    .iter()
                    .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
        };
        while !ready(&node) {
            if let Some(status) = node.child.try_wait().unwrap() {
                panic!("node {name} exited early ({status})\n{}", node.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "node {name} was not ready within {} s\n{}",
                startup.as_secs(),
                node.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        node
    }

    /// The last lines of the node's output.
    pub(crate) fn log_tail(&self) -> String {
        let mut text = String::new();
        for stream in ["serve.out", "serve.err"] {
            let log = fs::read_to_string(self.dir.join(stream)).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(20)..];
            text.push_str(&format!(
                "--- node {} {stream} ---\n{}\n",
                self.name,
                tail.join("\n")
            ));
        }
        text
    }
}

/// The nodes and what the bench wrote in etcd: on drop, also when a panic unwinds, the
/// nodes are killed and the prefixes deleted.
pub(crate) struct Cluster {
    pub(crate) nodes: Vec<Node>,
    pub(crate) endpoints: Vec<String>,
    pub(crate) prefixes: Vec<String>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        for node in &mut self.nodes {
            let _ = node.child.kill();
            let _ = node.child.wait();
            if panicking {
                eprintln!("{}", node.log_tail());
            }
        }
        // A runtime of its own on a thread of its own: drop may run inside another's.
        let (endpoints, prefixes) = (&self.endpoints, &self.prefixes);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let Ok(mut client) = Client::connect(endpoints, None).await else {
                        eprintln!("cluster: cannot reach etcd to delete {prefixes:?}");
                        return;
                    };
                    for prefix in prefixes {
                        let everything = DeleteOptions::new().with_prefix();
                        if let Err(err) = client.delete(prefix.as_str(), Some(everything)).await {
                            eprintln!("cluster: deleting {prefix} in etcd: {err}");
                        }
                    }
                });
            });
        });
    }
}

/// A node's admin API: its address, token and pinned certificate.
pub(crate) struct Admin {
    pub(crate) addr: SocketAddr,
    pub(crate) token: String,
    pub(crate) tls: Arc<ClientConfig>,
}

impl Admin {
    pub(crate) fn new(node: &Node) -> Admin {
        let (token, tls) = pinned_admin(&node.data_dir);
        Admin {
            addr: node.admin,
            token,
            tls,
        }
    }

    /// `PUT /api/domains/NAME/certificate` with `pem`; see [`Admin::request`].
    pub(crate) fn set_cert(&self, pem: &str) -> (Instant, Instant) {
        let path = format!("/api/domains/{NAME}/certificate");
        self.request("PUT", &path, &serde_json::json!({ "pem": pem }))
    }

    /// One HTTP/1.1 request with a JSON body on a connection of its own, which must be
    /// answered with success: the instants the request was sent (the TLS handshake done
    /// first) and the whole answer read.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> (Instant, Instant) {
        let body = body.to_string();
        let tcp = TcpStream::connect(self.addr).unwrap();
        tcp.set_nodelay(true).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let name = ServerName::from(self.addr.ip());
        let conn = ClientConnection::new(Arc::clone(&self.tls), name).unwrap();
        let mut stream = StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock).unwrap();
        }
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Accept: application/json\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            self.token,
            body.len()
        );
        let sent = Instant::now();
        stream.write_all(request.as_bytes()).unwrap();
        stream.flush().unwrap();
        let mut answer = Vec::new();
        let mut chunk = [0_u8; 16 * 1024];
        let complete = loop {
            if let Some(length) = complete_length(&answer) {
                if answer.len() >= length {
                    break Instant::now();
                }
            }
            match stream.read(&mut chunk) {
                Ok(0) => break Instant::now(),
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                    break Instant::now()
                }
                Err(err) => panic!("{method} {path} on {}: {err}", self.addr),
            }
        };
        stream.conn.send_close_notify();
        // The answer is in; the server may have closed already.
        let _ = stream.conn.complete_io(&mut stream.sock);
        let text = String::from_utf8_lossy(&answer);
        let status = text.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            status == "200" || (method == "POST" && status == "201"),
            "{method} {path} on {} was answered: {text}",
            self.addr
        );
        (sent, complete)
    }
}

/// The length of a whole answer (headers and body) once its headers are in, when they
/// give a Content-Length.
pub(crate) fn complete_length(answer: &[u8]) -> Option<usize> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&answer[..end]);
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    })?;
    Some(end + length)
}
