//! `certfleet serve` as a TLS edge, judged by `openssl s_client`: which certificate a
//! handshake gets on a listener with a certdir and on one without
//! 3), and the data directory's default certificate and admin token reused across
//! starts with mode 0600.

use crate::support::openssl::sha1_fingerprint;
use crate::support::pki::self_signed;
use crate::support::run::TempDir;
use crate::support::serve::{served_sha1, ServeConfig};
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

struct Setup {
    _dir: TempDir,
    config: ServeConfig,
    certdir_cert: PathBuf,
    ws: SocketAddr,
    other: SocketAddr,
}

/// A "ws" listener whose certdir (given through an alias) holds a self-signed
/// certificate, and an "api" listener without one.
fn setup() -> Setup {
    let dir = TempDir::new();
    let certdir = dir.join("certdir");
    self_signed(dir.path(), "edge.example.test").install_certdir(&certdir);
    let mut config = ServeConfig::new(dir.path());
    let ws = config.listener("ws", Some("alias://edge_certdir"), None);
    let other = config.listener("api", None, None);
    config.alias("edge_certdir", &certdir);
    Setup {
        certdir_cert: certdir.join("server.crt"),
        _dir: dir,
        config,
        ws,
        other,
    }
}

#[test]
fn certdir_and_default_certificates_are_served_by_listener() {
    let s = setup();
    let _server = s.config.start();
    let certdir_sha1 = sha1_fingerprint(&s.certdir_cert);
    let default_sha1 = sha1_fingerprint(&s.config.data_dir.join("default.pem"));
    assert_ne!(certdir_sha1, default_sha1);

    // The "ws" listener: its certdir for a name no domain has, and without SNI.
    assert_eq!(
        served_sha1(s.ws, Some("unknown.example.test")),
        certdir_sha1
    );
    assert_eq!(served_sha1(s.ws, None), certdir_sha1);
    // The listener without a certdir: the installation's default certificate.
    assert_eq!(
        served_sha1(s.other, Some("unknown.example.test")),
        default_sha1
    );
    assert_eq!(served_sha1(s.other, None), default_sha1);
    // The admin listener: always the default certificate.
    assert_eq!(
        served_sha1(s.config.admin, Some("edge.example.test")),
        default_sha1
    );
}

#[test]
fn plain_http_redirects_to_the_first_https_listener() {
    let mut s = setup();
    // Redirects name only hosts a route answers.
    s.config
        .append("[[route]]\nhost = \"app.example.test\"\nupstream = \"http://127.0.0.1:9\"\n");
    let _server = s.config.start();
    let mut stream = TcpStream::connect(s.config.http).unwrap();
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
    let default_pem = s.config.data_dir.join("default.pem");
    let token_file = s.config.data_dir.join("admin.token");
    let (first_sha1, first_token) = {
        let _server = s.config.start();
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

    let _server = s.config.start();
    assert_eq!(sha1_fingerprint(&default_pem), first_sha1);
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), first_token);
    assert_eq!(served_sha1(s.other, None), first_sha1);
}
