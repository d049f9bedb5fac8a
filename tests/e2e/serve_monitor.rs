//! Monitoring of a running `certfleet serve`: a certificate that expires within
//! `[monitor] warn_days` is reported by `status`, by `/metrics` (a gauge for every
//! certificate, CA certificates included, behind the admin token), in the log, on the
//! alert board, and once to the webhook, which a receiver in this test plays.

use crate::support::openssl::{openssl, sha1_fingerprint};
use crate::support::pki::{Ca, Leaf};
use crate::support::run::{arg, TempDir};
use crate::support::serve::{ServeConfig, Server};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A webhook receiver on a loopback port: keeps each request's path and JSON body and
/// answers 204.
struct Receiver {
    addr: SocketAddr,
    posts: Arc<Mutex<Vec<(String, Value)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let posts = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (posts, stop) = (Arc::clone(&posts), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(stream) = stream {
                        if let Some(post) = read_request(stream) {
                            posts.lock().unwrap().push(post);
                        }
                    }
                }
            })
        };
        Receiver {
            addr,
            posts,
            stop,
            thread: Some(thread),
        }
    }

    fn posts(&self) -> Vec<(String, Value)> {
        self.posts.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one HTTP/1.1 request, answers 204 and closes; the request line and the body.
fn read_request(mut stream: TcpStream) -> Option<(String, Value)> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut request = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        request.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&request).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length = head
            .lines()
            .find_map(|line| {
                let lower = line.to_ascii_lowercase();
                lower
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            })
            .unwrap_or(0);
        if body.len() < length {
            continue;
        }
        let _ = stream.write_all(
            b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
        let line = head.lines().next().unwrap_or_default().to_owned();
        return Some((line, serde_json::from_str(body).unwrap_or(Value::Null)));
    }
}

/// `GET PATH` on the admin listener through `openssl s_client`, with the admin token
/// when `token`; the status code and the body.
fn admin_get(server: &Server, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    request.push_str("\r\n");
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-ign_eof",
            "-servername",
            "localhost",
            "-connect",
            &server.admin.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start openssl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer from {path}: {text}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head}"));
    (status, body.to_owned())
}

/// notAfter of the first certificate of `cert` as openssl reads it, in Unix seconds.
pub(crate) fn openssl_not_after(cert: &Path) -> i64 {
    let out = openssl(["x509", "-noout", "-enddate", "-in", arg(cert)]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // notAfter=Dec  6 11:05:00 2026 GMT
    let date = text.trim().strip_prefix("notAfter=").unwrap();
    let format = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    time::PrimitiveDateTime::parse(date, &format)
        .unwrap_or_else(|e| panic!("{date}: {e}"))
        .assume_utc()
        .unix_timestamp()
}

/// The value of the `certfleet_certificate_expiry_timestamp_seconds` series of `sha1`.
fn expiry_gauge(metrics: &str, sha1: &str) -> i64 {
    let line = metrics
        .lines()
        .find(|line| {
            line.starts_with("certfleet_certificate_expiry_timestamp_seconds{")
                && line.contains(&format!("sha1=\"{sha1}\""))
        })
        .unwrap_or_else(|| panic!("no expiry gauge for {sha1}:\n{metrics}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

fn set_cert(server: &Server, name: &str, leaf: &Leaf) {
    server.domain_ok(&["add", name, "--json"]);
    server.domain_ok(&["set-cert", name, arg(&leaf.merged()), "--json"]);
}

/// Waits until `receiver` has `count` posts (or 20 s pass).
fn wait_for_posts(receiver: &Receiver, count: usize) -> Vec<(String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let posts = receiver.posts();
        if posts.len() >= count || Instant::now() > deadline {
            return posts;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn status_metrics_log_and_webhook_report_a_certificate_within_warn_days() {
    let dir = TempDir::new();
    let receiver = Receiver::start();
    let ca = Ca::new(dir.path(), "Monitor");
    let mut config = ServeConfig::new(dir.path());
    config.listener("web", None, None);
    config.append(&format!(
        "[monitor]\nwarn_days = 30\ninterval_seconds = 1\nwebhook = \"http://{}/hook?key=receiver-secret\"\n",
        receiver.addr
    ));
    let server = config.start();

    let fresh = ca.leaf(dir.path(), "example.test", &[], 90, "");
    set_cert(&server, "example.test", &fresh);
    let soon = ca.leaf(dir.path(), "soon.example.test", &[], 10, "");
    set_cert(&server, "soon.example.test", &soon);
    let expired = ca.expired_leaf(dir.path(), "old.example.test");
    set_cert(&server, "old.example.test", &expired);
    let intermediate = ca.dir().join("intermediate.crt");
    let (soon_sha1, expired_sha1) = (
        sha1_fingerprint(&soon.crt()),
        sha1_fingerprint(&expired.crt()),
    );

    // status: warning for the leaf within warn_days, expired for the expired one, ok
    // for every other certificate (the other leaf, the CA certificates, the default).
    let status = server.status();
    let certificates = status["certificates"].as_array().unwrap();
    for certificate in certificates {
        let sha1 = certificate["sha1_thumbprint"].as_str().unwrap();
        let expected = if sha1 == soon_sha1 {
            "warning"
        } else if sha1 == expired_sha1 {
            "expired"
        } else {
            "ok"
        };
        assert_eq!(certificate["state"], expected, "{certificate}");
    }
    assert_eq!(certificates.len(), 6, "{certificates:#?}");

    // The webhook: one post for each leaf that entered warning or expired.
    let posts = wait_for_posts(&receiver, 2);
    assert_eq!(posts.len(), 2, "{posts:#?}\n{}", server.logs());
    let for_leaf = |sha1: &str| {
        posts
            .iter()
            .find(|(_, body)| body["sha1_thumbprint"] == sha1)
            .unwrap_or_else(|| panic!("no post for {sha1}: {posts:#?}"))
            .clone()
    };
    let (line, warning) = for_leaf(&soon_sha1);
    assert!(
        line.starts_with("POST /hook?key=receiver-secret HTTP/1.1"),
        "{line}"
    );
    assert_eq!(warning["event"], "certificate_expiry");
    assert_eq!(warning["state"], "warning");
    assert_eq!(warning["domain"], "soon.example.test");
    assert_eq!(warning["used_by"], "domain soon.example.test");
    assert_eq!(warning["role"], "leaf");
    assert!((9..=10).contains(&warning["days_remaining"].as_i64().unwrap()));
    assert!(warning["subject"]
        .as_str()
        .unwrap()
        .contains("soon.example.test"));
    let (_, gone) = for_leaf(&expired_sha1);
    assert_eq!(gone["state"], "expired");
    assert_eq!(gone["domain"], "old.example.test");

    // /metrics: the token is required; with it, a gauge for each leaf and for its CA
    // certificates, at their notAfter as openssl reads it.
    let (code, _) = admin_get(&server, "/metrics", None);
    assert_eq!(code, 401);
    let (code, _) = admin_get(&server, "/metrics", Some("not-the-token"));
    assert_eq!(code, 401);
    let token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let (code, metrics) = admin_get(&server, "/metrics", Some(token.trim()));
    assert_eq!(code, 200, "{metrics}");
    for cert in [
        soon.crt(),
        fresh.crt(),
        expired.crt(),
        intermediate,
        ca.root(),
    ] {
        assert_eq!(
            expiry_gauge(&metrics, &sha1_fingerprint(&cert)),
            openssl_not_after(&cert),
            "{}",
            cert.display()
        );
    }
    assert!(metrics.contains("role=\"root\""), "{metrics}");
    assert!(metrics.contains("role=\"intermediate\""), "{metrics}");
    let warning_line = metrics
        .lines()
        .find(|l| {
            l.starts_with("certfleet_certificate_state{")
                && l.contains(&soon_sha1)
                && l.contains("state=\"warning\"")
        })
        .unwrap_or_else(|| panic!("no state series:\n{metrics}"));
    assert!(warning_line.ends_with(" 1"), "{warning_line}");
    assert!(
        metrics.contains("certfleet_certificates{state=\"warning\"} 1"),
        "{metrics}"
    );

    // The alert board has the entries too.
    let (code, alerts) = admin_get(&server, "/api/alerts", Some(token.trim()));
    assert_eq!(code, 200);
    let alerts: Value = serde_json::from_str(&alerts).unwrap();
    let kinds: Vec<&str> = alerts["recent"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"certificate_warning"), "{alerts}");
    assert!(kinds.contains(&"certificate_expired"), "{alerts}");

    // Further intervals repeat nothing.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(receiver.posts().len(), 2, "{:#?}", receiver.posts());

    // The log has one warning line for the leaf, and no key material or webhook secret.
    let logs = server.logs();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("certificate_warning") && l.contains(&soon_sha1))
        .collect();
    assert_eq!(lines.len(), 1, "{logs}");
    assert!(lines[0].contains("soon.example.test"), "{}", lines[0]);
    assert!(!logs.contains("PRIVATE KEY"), "{logs}");
    assert!(!logs.contains("receiver-secret"), "{logs}");
}
