//! Routes of `certfleet serve` against real upstream servers (Python's http.server, over
//! plain HTTP and TLS, and a `websockets` echo), driven by curl and a WebSocket client:
//! HTTP/1.1 and HTTP/2 to the client, a WebSocket echo, `upstream_trust` with PEM, JKS and
//! PKCS#12 CA files (keytool-made) and `false`, client certificates per route, basic
//! authentication, and start-up refusing a missing trust file.
//!
//! [`Platform`] builds the whole scene once per test: an edge CA and certificate, an
//! upstream CA and certificate, a client CA with two client certificates, the three
//! upstream servers, and the server with one route per case.

mod auth;
mod proxy;
mod request_safety;
mod wire;

use crate::support::openssl::sha256_fingerprint;
use crate::support::run::{arg, assert_ok, certfleet, stdout, TempDir};
use crate::support::serve::{ServeConfig, Server};
use crate::support::venv::venv_tool;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Every host a route answers in [`Platform`]; the edge certificate covers them all.
const HOSTS: [&str; 8] = [
    "app.test",
    "pem.test",
    "jks.test",
    "p12.test",
    "insecure.test",
    "system.test",
    "secure.test",
    "auth.test",
];

/// The basic-auth password of `auth.test` (stored CRYPT: in the configuration).
const BASIC_PASSWORD: &str = "Gateway-Pass-7";

/// A child process killed when dropped.
pub(crate) struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Python interpreter of the test venv, which has `websockets`.
pub(crate) fn python() -> PathBuf {
    venv_tool("websockets", "python")
}

pub(crate) fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/fixtures/upstreams.py")
}

/// Starts an upstream server (`upstreams.py MODE ARGS...`) and returns it with its port.
pub(crate) fn upstream(args: &[&str]) -> (Guard, u16) {
    let mut child = Command::new(python())
        .arg(fixture())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cannot start the upstream fixture");
    let mut line = String::new();
    let stdout = child.stdout.take().unwrap();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("upstream {args:?} did not print its port: {line:?}"));
    (Guard(child), port)
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// `cert issue --ca CA ... --out PREFIX` with the given extra arguments.
fn issue(ca: &Path, prefix: &Path, cn: &str, extra: &[&str]) {
    let mut args = vec![
        "cert",
        "issue",
        "--ca",
        arg(ca),
        "--cn",
        cn,
        "--out",
        arg(prefix),
    ];
    args.extend(extra);
    assert_ok(&certfleet(&args));
}

fn ca_init(dir: &Path, cn: &str) {
    assert_ok(&certfleet(&["ca", "init", "--out", arg(dir), "--cn", cn]));
}

/// A truststore made by keytool holding `cert` (JKS or PKCS12).
fn keytool_truststore(cert: &Path, out: &Path, store_type: &str, password: &str) {
    let out_arg = arg(out);
    let result = run(
        "keytool",
        &[
            "-importcert",
            "-noprompt",
            "-alias",
            "upstream-ca",
            "-file",
            arg(cert),
            "-keystore",
            out_arg,
            "-storetype",
            store_type,
            "-storepass",
            password,
        ],
    );
    assert!(
        result.status.success(),
        "keytool: {}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// The whole scene: certificates, upstreams and a running edge.
pub struct Platform {
    dir: TempDir,
    /// The edge's HTTPS listener.
    edge: SocketAddr,
    server: Server,
    _upstreams: Vec<Guard>,
}

impl Platform {
    pub fn start() -> Platform {
        let dir = TempDir::new();
        let mut serve = ServeConfig::new(dir.path());
        let data = serve.data_dir.clone();
        ca_init(&dir.join("edge-ca"), "Edge Test CA");
        let mut sans = Vec::new();
        for host in HOSTS {
            sans.extend(["--san", host]);
        }
        issue(&dir.join("edge-ca"), &dir.join("edge"), "app.test", &sans);
        let certdir = dir.join("certdir");
        std::fs::create_dir(&certdir).unwrap();
        std::fs::copy(dir.join("edge.key"), certdir.join("server.key")).unwrap();
        std::fs::copy(dir.join("edge.crt"), certdir.join("server.crt")).unwrap();

        ca_init(&dir.join("upstream-ca"), "Upstream Test CA");
        let up = dir.join("upstream");
        issue(
            &dir.join("upstream-ca"),
            &up,
            "localhost",
            &["--ip", "127.0.0.1"],
        );
        let up_ca = dir.join("upstream-ca/root.crt");
        keytool_truststore(&up_ca, &dir.join("trust.jks"), "JKS", "changeit");
        keytool_truststore(&up_ca, &dir.join("trust.p12"), "PKCS12", "p12-secret");

        ca_init(&dir.join("client-ca"), "Client Test CA");
        for name in ["alice", "bob"] {
            issue(
                &dir.join("client-ca"),
                &dir.join(name),
                name,
                &["--usage", "client"],
            );
        }
        ca_init(&dir.join("rogue-ca"), "Rogue Test CA");
        issue(
            &dir.join("rogue-ca"),
            &dir.join("mallory"),
            "alice",
            &["--usage", "client"],
        );
        // As an administrator copies it from a certificate viewer.
        let alice = sha256_fingerprint(&dir.join("alice.crt"))
            .as_bytes()
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).to_lowercase())
            .collect::<Vec<_>>()
            .join(":");

        let (plain, plain_port) = upstream(&["http", "plain"]);
        let (tls, tls_port) = upstream(&[
            "https",
            "tls",
            arg(&dir.join("upstream.crt")),
            arg(&dir.join("upstream.key")),
        ]);
        let (ws, ws_port) = upstream(&["ws", "echo"]);

        let encrypt = |value: &str| {
            let out = certfleet(&["encrypt", "--data-dir", arg(&data), value]);
            assert_ok(&out);
            stdout(&out).trim().to_owned()
        };
        let (jks_password, basic_password) = (encrypt("changeit"), encrypt(BASIC_PASSWORD));
        let edge = serve.listener("web", Some(arg(&certdir)), None);
        let tls_up = format!("https://127.0.0.1:{tls_port}");
        let routes = format!(
            r#"[[route]]
host = "app.test"
upstream = "http://127.0.0.1:{plain_port}/base"
[[route]]
host = "app.test"
path = "/ws"
upstream = "http://127.0.0.1:{ws_port}"
[[route]]
host = "pem.test"
upstream = "{tls_up}"
upstream_trust = "{up_ca}"
[[route]]
host = "jks.test"
upstream = "{tls_up}"
upstream_trust = "{jks}"
upstream_trust_password = "{jks_password}"
[[route]]
host = "p12.test"
upstream = "{tls_up}"
upstream_trust = "{p12}"
upstream_trust_password = "p12-secret"
[[route]]
host = "insecure.test"
upstream = "{tls_up}"
upstream_trust = false
[[route]]
host = "system.test"
upstream = "{tls_up}"
[[route]]
host = "secure.test"
upstream = "http://127.0.0.1:{plain_port}"
client_auth = "required"
client_ca = "{client_ca}"
allowed_thumbprints = ["{alice}"]
[[route]]
host = "auth.test"
upstream = "http://127.0.0.1:{plain_port}"
basic_auth_user = "gateway"
basic_auth_password = "{basic_password}"
"#,
            up_ca = up_ca.display(),
            jks = dir.join("trust.jks").display(),
            p12 = dir.join("trust.p12").display(),
            client_ca = dir.join("client-ca/root.crt").display(),
        );
        serve.append(&routes);
        let server = serve.start();
        Platform {
            dir,
            edge,
            server,
            _upstreams: vec![plain, tls, ws],
        }
    }

    /// A file in the scene's directory.
    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// What the server has logged so far.
    fn log(&self) -> String {
        self.server.logs()
    }

    /// `curl https://HOST:PORT/PATH` through the edge (trusting the edge CA), with extra
    /// arguments; gives curl's output.
    fn curl(&self, host: &str, path: &str, extra: &[&str]) -> Output {
        let port = self.edge.port();
        let resolve = format!("{host}:{port}:127.0.0.1");
        let url = format!("https://{host}:{port}{path}");
        let ca = self.file("edge-ca/root.crt");
        let mut args = vec![
            "-sS",
            "--max-time",
            "20",
            "--cacert",
            arg(&ca),
            "--resolve",
            &resolve,
            "-w",
            "\n%{http_code} %{http_version}",
        ];
        args.extend(extra);
        args.push(&url);
        run("curl", &args)
    }
}

/// The parts of a curl answer: status, HTTP version, body.
struct Answer {
    status: u16,
    version: String,
    body: String,
}

fn answer(out: &Output) -> Answer {
    assert!(
        out.status.success(),
        "curl failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, last) = text.rsplit_once('\n').unwrap();
    let (status, version) = last.split_once(' ').unwrap();
    Answer {
        status: status.parse().unwrap(),
        version: version.to_owned(),
        body: body.to_owned(),
    }
}
