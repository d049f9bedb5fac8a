//! A running `certfleet serve` for the edge's tests: its configuration file (docs/CLI.md's
//! TOML, every address a fresh loopback port), the process with its output captured to
//! files, `certfleet domain ...` against its admin API, and `openssl s_client`
//! handshakes that report the certificate served.

use super::openssl::openssl;
use super::run::{arg, assert_exit, assert_ok, certfleet, describe, stdout_json};
use std::fs;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A loopback address with a port nobody listens on right now (bound and released;
/// the server binds it right after).
pub fn free_addr() -> SocketAddr {
    free_addr_on("127.0.0.1")
}

/// A port nobody listens on right now on `ip`, bound and released.
///
/// Ports are taken from 10000-31999, below the kernel's ephemeral range (32768 and up
/// by default): a port the kernel hands out for port 0 is also what it gives the next
/// outgoing connection of any test, which could take it before the server binds it.
/// Calls in one process walk the range one port after another from a start that
/// differs per process, so two picks of this process never collide either.
pub fn free_addr_on(ip: &str) -> SocketAddr {
    const FIRST: u32 = 10_000;
    const SPAN: u32 = 22_000;
    static START: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = *START.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        (std::process::id().wrapping_mul(7919) ^ nanos) % SPAN
    });
    for _ in 0..SPAN {
        let step = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = FIRST + (start + step) % SPAN;
        // Below 32000: always a valid u16.
        if let Ok(listener) = TcpListener::bind((ip, port as u16)) {
            return listener.local_addr().unwrap();
        }
    }
    panic!("no free port on {ip} in {FIRST}-{}", FIRST + SPAN - 1)
}

/// One `[[listener]]`.
struct ListenerSpec {
    role: String,
    https: SocketAddr,
    certdir: Option<String>,
    tls_profile: Option<String>,
}

/// A server configuration under a test directory: data directory `DIR/data`, admin
/// and HTTP listeners on fresh ports, and the `[[listener]]`s added.
pub struct ServeConfig {
    dir: PathBuf,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The admin listener.
    pub admin: SocketAddr,
    /// The plain HTTP listener.
    pub http: SocketAddr,
    listeners: Vec<ListenerSpec>,
    aliases: Vec<(String, PathBuf)>,
    /// More TOML appended as is (`[[route]]` tables and the like).
    extra: String,
    /// More `[admin]` keys, one per line.
    admin_keys: String,
    /// Environment variables set for the server process.
    env: Vec<(String, String)>,
}

impl ServeConfig {
    /// A configuration with no `[[listener]]` yet.
    pub fn new(dir: &Path) -> ServeConfig {
        ServeConfig {
            dir: dir.to_owned(),
            data_dir: dir.join("data"),
            admin: free_addr(),
            http: free_addr(),
            listeners: Vec::new(),
            aliases: Vec::new(),
            extra: String::new(),
            admin_keys: String::new(),
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for the server process (e.g. `SSL_CERT_FILE`, which
    /// stands in for the system roots).
    pub fn env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Adds a `key = value` line to `[admin]`.
    pub fn admin_key(&mut self, line: &str) {
        self.admin_keys.push_str(line);
        self.admin_keys.push('\n');
    }

    /// Appends TOML (tables such as `[[route]]`) to the file.
    pub fn append(&mut self, toml: &str) {
        self.extra.push('\n');
        self.extra.push_str(toml);
    }

    /// Adds a `[[listener]]` for `role` on a fresh port, with `certdir` (a path or
    /// `alias://NAME`) and `tls_profile` when given; returns its address.
    pub fn listener(
        &mut self,
        role: &str,
        certdir: Option<&str>,
        tls_profile: Option<&str>,
    ) -> SocketAddr {
        let https = free_addr();
        self.listeners.push(ListenerSpec {
            role: role.to_owned(),
            https,
            certdir: certdir.map(str::to_owned),
            tls_profile: tls_profile.map(str::to_owned),
        });
        https
    }

    /// Adds `NAME = "DIR"` to `[aliases]`.
    pub fn alias(&mut self, name: &str, dir: &Path) {
        self.aliases.push((name.to_owned(), dir.to_owned()));
    }

    /// The configuration file's text.
    pub fn toml(&self) -> String {
        let quoted = |p: &Path| format!("{:?}", arg(p));
        let mut text = format!(
            "data_dir = {}\n\n[admin]\nlisten = \"{}\"\n{}\n[http]\nlisten = \"{}\"\n",
            quoted(&self.data_dir),
            self.admin,
            self.admin_keys,
            self.http
        );
        for l in &self.listeners {
            text.push_str(&format!(
                "\n[[listener]]\nrole = {:?}\nhttps = \"{}\"\n",
                l.role, l.https
            ));
            if let Some(certdir) = &l.certdir {
                text.push_str(&format!("certdir = {certdir:?}\n"));
            }
            if let Some(profile) = &l.tls_profile {
                text.push_str(&format!("tls_profile = {profile:?}\n"));
            }
        }
        if !self.aliases.is_empty() {
            text.push_str("\n[aliases]\n");
            for (name, dir) in &self.aliases {
                text.push_str(&format!("{name} = {}\n", quoted(dir)));
            }
        }
        text.push_str(&self.extra);
        text
    }

    /// Writes `DIR/certfleet.toml` and starts the server on it.
    pub fn start(&self) -> Server {
        let config = self.dir.join("certfleet.toml");
        fs::write(&config, self.toml()).unwrap();
        let mut addresses: Vec<SocketAddr> = self.listeners.iter().map(|l| l.https).collect();
        addresses.extend([self.http, self.admin]);
        let mut server = Server {
            child: None,
            config,
            log_dir: self.dir.clone(),
            data_dir: self.data_dir.clone(),
            admin: self.admin,
            addresses,
            launches: 0,
            env: self.env.clone(),
        };
        server.launch();
        server
    }
}

/// A running `certfleet serve`, killed when dropped. Each launch's stdout and stderr go
/// to files of their own beside the configuration.
pub struct Server {
    child: Option<Child>,
    config: PathBuf,
    log_dir: PathBuf,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The admin listener.
    pub admin: SocketAddr,
    addresses: Vec<SocketAddr>,
    launches: usize,
    env: Vec<(String, String)>,
}

impl Server {
    /// Starts `certfleet serve --config CONFIG` on a configuration file written
    /// elsewhere (an example's, with its addresses made fresh), whose data directory is
    /// `data_dir`, admin listener `admin`, and every listener among `addresses`; waits
    /// as [`Server::launch`] does. Its output goes to files beside `config`.
    pub fn start_file(
        config: &Path,
        data_dir: &Path,
        admin: SocketAddr,
        addresses: Vec<SocketAddr>,
    ) -> Server {
        let mut server = Server {
            child: None,
            config: config.to_owned(),
            log_dir: config.parent().unwrap().to_owned(),
            data_dir: data_dir.to_owned(),
            admin,
            addresses,
            launches: 0,
            env: Vec::new(),
        };
        server.launch();
        server
    }

    /// Starts the process (again, after [`Server::stop`]) and waits until every address
    /// accepts and the data directory holds the admin token and default certificate.
    pub fn launch(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        self.launches += 1;
        let out = fs::File::create(self.log_file(self.launches, "out")).unwrap();
        let err = fs::File::create(self.log_file(self.launches, "err")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(["serve", "--config", arg(&self.config)])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("failed to start certfleet serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = |s: &Server| {
            s.data_dir.join("admin.token").exists()
                && s.data_dir.join("default.pem").exists()
                && s.addresses
                    .iter()
                    .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
        };
        while !ready(self) {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("certfleet serve exited early ({status})\n{}", self.logs());
            }
            assert!(
                Instant::now() < deadline,
                "certfleet serve was not ready within 30 s\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_file(&self, launch: usize, stream: &str) -> PathBuf {
        self.log_dir.join(format!("serve-{launch}.{stream}"))
    }

    /// Everything every launch printed, stdout and stderr.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for launch in 1..=self.launches {
            for stream in ["out", "err"] {
                let body = fs::read_to_string(self.log_file(launch, stream)).unwrap_or_default();
                text.push_str(&format!(
                    "--- serve launch {launch} std{stream} ---\n{body}\n"
                ));
            }
        }
        text
    }

    /// Stops the server with SIGTERM (graceful shutdown), killing it after 10 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("certfleet serve ignored SIGTERM for 10 s\n{}", self.logs());
    }

    /// `certfleet domain ARGS... --server https://ADMIN --data-dir DATA_DIR`.
    pub fn domain(&self, args: &[&str]) -> Output {
        let server = format!("https://{}", self.admin);
        let mut all = vec!["domain"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--server", &server, "--data-dir", arg(&self.data_dir)]);
        certfleet(&all)
    }

    /// [`Server::domain`] that must succeed; its `--json` output.
    pub fn domain_ok(&self, args: &[&str]) -> serde_json::Value {
        let out = self.domain(args);
        assert_ok(&out);
        stdout_json(&out)
    }

    /// `certfleet status --json` against this server. Its exit status must agree with the
    /// answer: 1 when a certificate is expired or in warning, else 0.
    pub fn status(&self) -> serde_json::Value {
        let server = format!("https://{}", self.admin);
        let out = certfleet(&[
            "status",
            "--json",
            "--server",
            &server,
            "--data-dir",
            arg(&self.data_dir),
        ]);
        let status = stdout_json(&out);
        let problem = status["certificates"]
            .as_array()
            .unwrap_or_else(|| panic!("no certificates array\n{}", describe(&out)))
            .iter()
            .any(|certificate| certificate["state"] != "ok");
        assert_exit(&out, i32::from(problem));
        status
    }

    /// `domain resolve NAME --role ROLE --json`.
    pub fn resolve(&self, name: &str, role: &str) -> serde_json::Value {
        self.domain_ok(&["resolve", name, "--role", role, "--json"])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // A failing test shows what the server said (the harness prints a failed test's
        // captured output), so a failure seen only in CI can be told apart afterwards.
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
    }
}

/// `openssl s_client -connect ADDR` with `-servername SNI` (or `-noservername`) and
/// `extra` arguments, stdin closed.
pub fn s_client(addr: SocketAddr, sni: Option<&str>, extra: &[&str]) -> Output {
    let connect = addr.to_string();
    let mut args = vec!["s_client", "-connect", connect.as_str()];
    match sni {
        Some(name) => args.extend(["-servername", name]),
        None => args.push("-noservername"),
    }
    args.extend_from_slice(extra);
    openssl(&args)
}

/// The SHA-1 fingerprint (40 upper-case hex digits) of the leaf that a handshake with
/// `sni` (None: no SNI) gets at `addr`, as openssl sees it.
pub fn served_sha1(addr: SocketAddr, sni: Option<&str>) -> String {
    let out = s_client(addr, sni, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    let begin = "-----BEGIN CERTIFICATE-----";
    let end = "-----END CERTIFICATE-----";
    let (Some(from), Some(to)) = (text.find(begin), text.find(end)) else {
        panic!(
            "no certificate from {addr} (sni {sni:?}):\n{}",
            describe(&out)
        );
    };
    let pem = &text[from..to + end.len()];
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start openssl");
    x509.stdin
        .take()
        .unwrap()
        .write_all(format!("{pem}\n").as_bytes())
        .unwrap();
    let fp = x509.wait_with_output().unwrap();
    let printed = String::from_utf8_lossy(&fp.stdout);
    let hex = printed
        .trim()
        .split_once('=')
        .map(|(_, hex)| hex.replace(':', "").to_ascii_uppercase())
        .unwrap_or_default();
    assert_eq!(hex.len(), 40, "no fingerprint: {}", describe(&fp));
    hex
}
