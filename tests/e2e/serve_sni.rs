//! `certfleet serve` as a TLS edge, judged by `openssl s_client`: which certificate a
//! handshake gets on a listener with a certdir and on one without (SPEC C3 steps 2 and
//! 3), and the data directory's default certificate and admin token reused across
//! starts with mode 0600.

use crate::support::openssl::{openssl, sha1_fingerprint};
use crate::support::run::{arg, assert_ok, certfleet, TempDir};
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `certfleet serve`, killed when dropped.
pub struct Server {
    child: Child,
}

impl Server {
    /// Starts `certfleet serve --config CONFIG` and waits until every address accepts.
    pub fn start(config: &Path, addresses: &[SocketAddr]) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(["serve", "--config", arg(config)])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to start certfleet serve");
        let mut server = Server { child };
        let deadline = Instant::now() + Duration::from_secs(30);
        for addr in addresses {
            while TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_err() {
                if let Some(status) = server.child.try_wait().unwrap() {
                    let mut err = String::new();
                    if let Some(stderr) = server.child.stderr.as_mut() {
                        let _ = stderr.read_to_string(&mut err);
                    }
                    panic!("certfleet serve exited ({status}) before {addr} accepted:\n{err}");
                }
                assert!(Instant::now() < deadline, "{addr} never accepted");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address with a port nobody listens on right now.
pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The SHA-1 fingerprint of the leaf served at `addr` for `sni` (None: no SNI).
fn served_sha1(dir: &TempDir, addr: SocketAddr, sni: Option<&str>) -> String {
    let connect = addr.to_string();
    let mut args = vec!["s_client", "-connect", connect.as_str()];
    match sni {
        Some(name) => args.extend(["-servername", name]),
        None => args.push("-noservername"),
    }
    let out = openssl(&args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("-----BEGIN CERTIFICATE-----"),
        "no certificate from {addr} (sni {sni:?}):\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.join(&format!(
        "served-{}-{}.txt",
        addr.port(),
        sni.unwrap_or("none")
    ));
    std::fs::write(&file, text).unwrap();
    sha1_fingerprint(&file)
}

struct Setup {
    dir: TempDir,
    config: PathBuf,
    data_dir: PathBuf,
    certdir_cert: PathBuf,
    ws: SocketAddr,
    other: SocketAddr,
    http: SocketAddr,
    admin: SocketAddr,
}

fn setup() -> Setup {
    let dir = TempDir::new();
    let prefix = dir.join("edge");
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--self-signed",
        "--cn",
        "edge.example.test",
        "--out",
        arg(&prefix),
    ]));
    let certdir = dir.join("certdir");
    std::fs::create_dir(&certdir).unwrap();
    std::fs::copy(dir.join("edge.key"), certdir.join("server.key")).unwrap();
    std::fs::copy(dir.join("edge.crt"), certdir.join("server.crt")).unwrap();
    let data_dir = dir.join("data");
    let (ws, other, http, admin) = (free_addr(), free_addr(), free_addr(), free_addr());
    let config = dir.join("certfleet.toml");
    std::fs::write(
        &config,
        format!(
            r#"data_dir = "{data}"

[admin]
listen = "{admin}"

[http]
listen = "{http}"

[[listener]]
role = "ws"
https = "{ws}"
certdir = "alias://edge_certdir"

[[listener]]
role = "api"
https = "{other}"

[aliases]
edge_certdir = "{certdir}"
"#,
            data = data_dir.display(),
            certdir = certdir.display(),
        ),
    )
    .unwrap();
    Setup {
        certdir_cert: certdir.join("server.crt"),
        dir,
        config,
        data_dir,
        ws,
        other,
        http,
        admin,
    }
}

#[test]
fn certdir_and_default_certificates_are_served_by_listener() {
    let s = setup();
    let _server = Server::start(&s.config, &[s.ws, s.other, s.http, s.admin]);
    let certdir_sha1 = sha1_fingerprint(&s.certdir_cert);
    let default_sha1 = sha1_fingerprint(&s.data_dir.join("default.pem"));
    assert_ne!(certdir_sha1, default_sha1);

    // The "ws" listener: its certdir for a name no domain has, and without SNI.
    assert_eq!(
        served_sha1(&s.dir, s.ws, Some("unknown.example.test")),
        certdir_sha1
    );
    assert_eq!(served_sha1(&s.dir, s.ws, None), certdir_sha1);
    // The listener without a certdir: the installation's default certificate.
    assert_eq!(
        served_sha1(&s.dir, s.other, Some("unknown.example.test")),
        default_sha1
    );
    assert_eq!(served_sha1(&s.dir, s.other, None), default_sha1);
    // The admin listener: always the default certificate.
    assert_eq!(
        served_sha1(&s.dir, s.admin, Some("edge.example.test")),
        default_sha1
    );
}

#[test]
fn plain_http_redirects_to_the_first_https_listener() {
    let s = setup();
    let _server = Server::start(&s.config, &[s.ws, s.http]);
    let mut stream = TcpStream::connect(s.http).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    use std::io::Write;
    stream
        .write_all(b"GET /a/b?c=d HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 308"), "{response}");
    let location = format!("location: https://app.example.test:{}/a/b?c=d", s.ws.port());
    assert!(
        response.to_ascii_lowercase().contains(&location),
        "{response}"
    );
}

#[test]
fn a_second_start_reuses_the_default_certificate_and_admin_token() {
    let s = setup();
    let addresses = [s.ws, s.other, s.http, s.admin];
    let default_pem = s.data_dir.join("default.pem");
    let token_file = s.data_dir.join("admin.token");
    let (first_sha1, first_token) = {
        let _server = Server::start(&s.config, &addresses);
        (
            sha1_fingerprint(&default_pem),
            std::fs::read_to_string(&token_file).unwrap(),
        )
    };
    let token = first_token.trim();
    assert_eq!(token.len(), 64, "{token:?}");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&default_pem, &token_file] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
    }

    let _server = Server::start(&s.config, &addresses);
    assert_eq!(sha1_fingerprint(&default_pem), first_sha1);
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), first_token);
    assert_eq!(served_sha1(&s.dir, s.other, None), first_sha1);
}
