//! Requests that try to reach a protected route by another spelling, or to get past the
//! edge's checks some other way, against the real binary and a recording upstream.
//!
//! The scene: `guard.test` with `/` open and `/admin` behind basic authentication, both
//! to one upstream that records every request it receives; `ws.test` with `/` to a
//! WebSocket echo and `/closed` to the same echo with `websocket = false`;
//! `trusted_proxies` naming 127.0.0.2. Every refusal is checked twice: the edge's status
//! and the upstream's record, which must not hold the request.

use super::{answer, ca_init, fixture, issue, python, upstream, Guard};
use crate::support::run::{arg, describe, TempDir};
use crate::support::serve::{ServeConfig, Server};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The basic-auth password of `guard.test/admin`.
const PASSWORD: &str = "Admin-Gate-9";

/// One request as the upstream received it.
#[derive(Debug, Clone)]
struct Seen {
    /// The request target (path and query).
    target: String,
    /// Header lines, names in lower case.
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// An HTTP/1.1 upstream on 127.0.0.1 that records each request and answers 200 with the
/// target it saw, one request per connection.
struct RecordingUpstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl RecordingUpstream {
    fn start() -> RecordingUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let record = Arc::clone(&record);
                std::thread::spawn(move || serve_one(stream, &record));
            }
        });
        RecordingUpstream { addr, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_one(stream: TcpStream, record: &Mutex<Vec<Seen>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let body = format!("upstream saw {target}");
    record.lock().unwrap().push(Seen { target, headers });
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = (&stream).write_all(reply.as_bytes());
}

/// The running scene.
struct Scene {
    dir: TempDir,
    edge: SocketAddr,
    http: SocketAddr,
    upstream: RecordingUpstream,
    _server: Server,
    _ws: Guard,
}

impl Scene {
    fn start() -> Scene {
        let dir = TempDir::new();
        let mut serve = ServeConfig::new(dir.path());
        ca_init(&dir.join("edge-ca"), "Edge Test CA");
        let sans = ["--san", "guard.test", "--san", "ws.test"];
        issue(&dir.join("edge-ca"), &dir.join("edge"), "guard.test", &sans);
        let certdir = dir.join("certdir");
        std::fs::create_dir(&certdir).unwrap();
        std::fs::copy(dir.join("edge.key"), certdir.join("server.key")).unwrap();
        std::fs::copy(dir.join("edge.crt"), certdir.join("server.crt")).unwrap();
        let recorder = RecordingUpstream::start();
        let (ws, ws_port) = upstream(&["ws", "echo"]);
        let edge = serve.listener("web", Some(arg(&certdir)), None);
        let up = recorder.addr;
        serve.append(&format!(
            r#"[forwarding]
trusted_proxies = ["127.0.0.2/32"]

[[route]]
host = "guard.test"
upstream = "http://{up}/base"
[[route]]
host = "guard.test"
path = "/admin"
upstream = "http://{up}/base"
basic_auth_user = "gateway"
basic_auth_password = "{PASSWORD}"
[[route]]
host = "ws.test"
upstream = "http://127.0.0.1:{ws_port}"
[[route]]
host = "ws.test"
path = "/closed"
upstream = "http://127.0.0.1:{ws_port}"
websocket = false
"#
        ));
        let server = serve.start();
        Scene {
            http: serve.http,
            dir,
            edge,
            upstream: recorder,
            _server: server,
            _ws: ws,
        }
    }

    fn ca(&self) -> PathBuf {
        self.dir.join("edge-ca/root.crt")
    }

    /// curl through the edge to `guard.test` with the path sent as written.
    fn curl(&self, path: &str, extra: &[&str]) -> Output {
        let port = self.edge.port();
        let resolve = format!("guard.test:{port}:127.0.0.1");
        let url = format!("https://guard.test:{port}{path}");
        let ca = self.ca();
        let mut args = vec![
            "-sS",
            "--path-as-is",
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
        Command::new("curl").args(&args).output().unwrap()
    }

    /// Sends `request` as written over TLS (SNI `sni`) and gives the whole answer.
    fn raw(&self, sni: &str, request: &str) -> String {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(self.ca()).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(sni.to_owned()).unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let tcp = TcpStream::connect(self.edge).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        // The edge closes after its answer (`Connection: close`); a missing close_notify
        // after the answer is not the test's concern.
        let _ = tls.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// The requests the upstream saw whose target contains `needle`.
    fn upstream_saw(&self, needle: &str) -> Vec<Seen> {
        self.upstream
            .seen()
            .into_iter()
            .filter(|seen| seen.target.contains(needle))
            .collect()
    }
}

fn status_of(raw: &str) -> u16 {
    raw.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {raw:?}"))
}

#[test]
fn other_spellings_of_a_protected_path_never_reach_the_upstream() {
    let scene = Scene::start();
    let credentials = format!("gateway:{PASSWORD}");
    // The protected route works with credentials, and the upstream sees the normal path.
    let got = answer(&scene.curl("/admin/secret?x=%2F..", &["-u", &credentials]));
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body, "upstream saw /base/admin/secret?x=%2F..");

    let spellings = [
        ("/admin/secret", 401),
        ("/x/../admin/secret", 401),
        ("/./admin/secret", 401),
        ("//admin/secret", 401),
        ("/%61dmin/secret", 401),
        ("/%2e/admin/secret", 401),
        ("/x/%2E%2E/admin/secret", 401),
        ("/admin;x/secret", 401),
        ("/admin%2fsecret", 400),
        ("/admin%2Fsecret", 400),
        ("/admin%5csecret", 400),
        ("/admin%00/secret", 400),
        ("/../admin/secret", 400),
        ("/%2e%2e/admin/secret", 400),
        ("/admin%zz", 400),
        ("/x/..;/admin/secret", 400),
        ("/;/admin/secret", 400),
    ];
    for (path, status) in spellings {
        let got = answer(&scene.curl(path, &[]));
        assert_eq!(got.status, status, "{path}: {}", got.body);
        assert!(!got.body.contains("upstream saw"), "{path}: {}", got.body);
    }
    // A literal backslash (curl would turn it into a slash): refused.
    let raw = scene.raw(
        "guard.test",
        "GET /admin\\secret HTTP/1.1\r\nHost: guard.test\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&raw), 400, "{raw}");
    // None of them reached the upstream: it saw the one authorised request only.
    let reached: Vec<String> = scene
        .upstream_saw("secret")
        .into_iter()
        .map(|seen| seen.target)
        .collect();
    assert_eq!(reached, ["/base/admin/secret?x=%2F.."]);

    // Open paths pass, normalised: the upstream sees the canonical spelling.
    let got = answer(&scene.curl("/docs/./a//b/../c%7e?q=/../", &[]));
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body, "upstream saw /base/docs/a/c~?q=/../");
    let got = answer(&scene.curl("/adminx/../%61dminx", &[]));
    assert_eq!(got.body, "upstream saw /base/adminx");
}

#[test]
fn host_headers_must_agree_and_be_single() {
    let scene = Scene::start();
    let port = scene.edge.port();
    let send = |request: String| scene.raw("guard.test", &request);
    let fine = send(format!(
        "GET /one HTTP/1.1\r\nHost: guard.test:{port}\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status_of(&fine), 200, "{fine}");
    let two = send(
        "GET /two HTTP/1.1\r\nHost: guard.test\r\nHost: other.test\r\nConnection: close\r\n\r\n"
            .to_owned(),
    );
    assert_eq!(status_of(&two), 400, "{two}");
    assert!(two.contains("more than one Host"), "{two}");
    let absolute = send(format!(
        "GET https://guard.test:{port}/three HTTP/1.1\r\nHost: guard.test:{port}\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status_of(&absolute), 200, "{absolute}");
    let mismatch = send(format!(
        "GET https://ws.test:{port}/four HTTP/1.1\r\nHost: guard.test\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status_of(&mismatch), 400, "{mismatch}");
    assert!(mismatch.contains("names ws.test"), "{mismatch}");
    let targets: Vec<String> = scene
        .upstream
        .seen()
        .into_iter()
        .map(|seen| seen.target)
        .collect();
    assert_eq!(targets, ["/base/one", "/base/three"]);
}

#[test]
fn only_websocket_upgrades_pass_and_only_where_allowed() {
    let scene = Scene::start();
    // h2c asks the upstream to speak HTTP/2 on this connection: refused, never sent.
    let h2c = scene.raw(
        "guard.test",
        "GET /h2c HTTP/1.1\r\nHost: guard.test\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
    );
    assert_eq!(status_of(&h2c), 400, "{h2c}");
    assert!(h2c.contains("refused Upgrade: h2c"), "{h2c}");
    let other = scene.raw(
        "guard.test",
        "GET /tls HTTP/1.1\r\nHost: guard.test\r\nConnection: upgrade, close\r\nUpgrade: TLS/1.2\r\n\r\n",
    );
    assert_eq!(status_of(&other), 400, "{other}");
    assert!(scene.upstream_saw("/h2c").is_empty());
    assert!(scene.upstream_saw("/tls").is_empty());
    // Without the upgrade, HTTP2-Settings is not passed on either.
    let plain = scene.raw(
        "guard.test",
        "GET /plain HTTP/1.1\r\nHost: guard.test\r\nHTTP2-Settings: AAMAAABk\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&plain), 200, "{plain}");
    let seen = scene.upstream_saw("/plain");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].header("http2-settings").is_empty(), "{seen:?}");

    let websocket = |path: &str| {
        let url = format!("wss://ws.test:{}{path}", scene.edge.port());
        Command::new(python())
            .arg(fixture())
            .args(["ws-client", &url, arg(&scene.ca()), "through the edge"])
            .output()
            .unwrap()
    };
    // A handshake whose connection closed before any HTTP answer (seen once on a
    // loaded machine) is tried once more; an answer, refusal or not, is judged as it is.
    let mut open = websocket("/");
    if !open.status.success()
        && String::from_utf8_lossy(&open.stderr).contains("did not receive a valid HTTP response")
    {
        eprintln!("websocket handshake retried after: {}", describe(&open));
        open = websocket("/");
    }
    assert!(open.status.success(), "{}", describe(&open));
    assert_eq!(
        String::from_utf8_lossy(&open.stdout).trim(),
        "echo: through the edge"
    );
    let closed = websocket("/closed");
    assert!(!closed.status.success(), "{}", describe(&closed));
    assert!(
        String::from_utf8_lossy(&closed.stderr).contains("403"),
        "{}",
        describe(&closed)
    );
}

#[test]
fn forwarded_for_is_replaced_unless_the_client_is_a_trusted_proxy() {
    let scene = Scene::start();
    let spoofed = [
        "-H",
        "X-Forwarded-For: 203.0.113.9",
        "-H",
        "X-Real-IP: 203.0.113.9",
    ];
    let got = answer(&scene.curl("/direct", &spoofed));
    assert_eq!(got.status, 200, "{}", got.body);
    let mut with_proxy = vec!["--interface", "127.0.0.2"];
    with_proxy.extend(spoofed);
    let got = answer(&scene.curl("/via-proxy", &with_proxy));
    assert_eq!(got.status, 200, "{}", got.body);

    let direct = &scene.upstream_saw("/direct")[0];
    assert_eq!(direct.header("x-forwarded-for"), ["127.0.0.1"]);
    assert!(direct.header("x-real-ip").is_empty(), "{direct:?}");
    let proxied = &scene.upstream_saw("/via-proxy")[0];
    assert_eq!(
        proxied.header("x-forwarded-for"),
        ["203.0.113.9, 127.0.0.2"]
    );
}

#[test]
fn plain_http_redirects_only_to_configured_hosts() {
    let scene = Scene::start();
    let url = format!("http://{}/page?q=1", scene.http);
    let curl = |host: &str| {
        let header = format!("Host: {host}");
        Command::new("curl")
            .args(["-sS", "--max-time", "20", "-H", &header, "-D", "-", &url])
            .output()
            .unwrap()
    };
    let known = String::from_utf8_lossy(&curl("guard.test").stdout).into_owned();
    assert!(known.starts_with("HTTP/1.1 308"), "{known}");
    let location = format!("https://guard.test:{}/page?q=1", scene.edge.port());
    assert!(
        known
            .to_ascii_lowercase()
            .contains(&format!("location: {location}")),
        "{known}"
    );
    let unknown = String::from_utf8_lossy(&curl("evil.example").stdout).into_owned();
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
    assert!(
        !unknown.to_ascii_lowercase().contains("location:"),
        "{unknown}"
    );
}
