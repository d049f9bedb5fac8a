//! One connection of a platform played with openssl: `s_server` with the server
//! service's key, certificate and chain (and, with mutual TLS, its truststore and a
//! required, verified client certificate), `s_client` with the client service's
//! truststore (and its certificate), checking the server's name.

use super::material::{block_sha1, cert_blocks, Identity};
use crate::support::openssl::s_client_page;
use crate::support::run::arg;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the `openssl s_server` it holds when dropped, even when the test panics.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    crate::support::serve::free_addr().port()
}

/// What one side of a connection brings.
pub(crate) struct Side<'a> {
    /// Its certificate and key (the client's only with mutual TLS).
    pub identity: Option<&'a Identity>,
    /// Its trusted certificates (PEM); the server's only with mutual TLS.
    pub trust: Option<&'a Path>,
}

/// What happened.
pub(crate) struct Handshake {
    /// Everything s_client printed (and the page s_server answered with).
    pub client_output: String,
    /// Everything s_server printed.
    pub server_output: String,
    /// s_client's exit status was 0 and it printed "Verify return code: 0 (ok)".
    pub server_verified: bool,
    /// The thumbprint of the client certificate s_server reports it accepted, if any.
    pub client_cert_seen: Option<String>,
}

/// Serves with `server` on 127.0.0.1 and connects with `client`, sending `fqdn` as SNI
/// and checking it against the server's certificate. `scratch` takes the server's log.
pub(crate) fn handshake(server: &Side, client: &Side, fqdn: &str, scratch: &Path) -> Handshake {
    let server_id = server.identity.expect("the server has a certificate");
    let port = free_port();
    let log = scratch.join(format!("s_server-{port}.log"));
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_server",
        "-www",
        "-no-CApath",
        "-no-CAstore",
        "-cert",
        arg(&server_id.leaf),
        "-key",
        arg(&server_id.key),
    ]);
    if let Some(chain) = &server_id.chain {
        cmd.args(["-cert_chain", arg(chain)]);
    }
    if let Some(trust) = server.trust {
        // Mutual TLS: a client certificate is required and must verify.
        cmd.args([
            "-CAfile",
            arg(trust),
            "-Verify",
            "1",
            "-verify_return_error",
        ]);
    } else {
        cmd.arg("-no-CAfile");
    }
    cmd.arg("-accept").arg(format!("127.0.0.1:{port}"));
    let log_file = std::fs::File::create(&log).unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("failed to start openssl s_server");
    let mut guard = ServerGuard(child);
    // s_server prints ACCEPT once it listens; if the port was taken meanwhile it exits.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        if log_text.contains("ACCEPT") {
            break;
        }
        if let Some(status) = guard.0.try_wait().unwrap() {
            panic!("s_server exited ({status}) before listening on {port}:\n{log_text}");
        }
        assert!(
            Instant::now() < deadline,
            "s_server did not start listening on {port}: {log_text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let mut args = vec![
        "-servername",
        fqdn,
        "-verify_hostname",
        fqdn,
        "-verify_return_error",
        "-no-CApath",
        "-no-CAstore",
        "-ign_eof",
    ];
    match client.trust {
        Some(trust) => args.extend(["-CAfile", arg(trust)]),
        None => args.push("-no-CAfile"),
    };
    if let Some(id) = client.identity {
        args.extend(["-cert", arg(&id.leaf), "-key", arg(&id.key)]);
        if let Some(chain) = &id.chain {
            args.extend(["-cert_chain", arg(chain)]);
        }
    }
    // s_server's status page shows the client certificate it verified.
    let (succeeded, client_output) = s_client_page(([127, 0, 0, 1], port).into(), &args);
    drop(guard);
    let server_output = std::fs::read_to_string(&log).unwrap_or_default();
    let server_verified = succeeded && client_output.contains("Verify return code: 0 (ok)");
    // s_server -www prints "Client certificate", the certificate's text, then its PEM.
    let client_cert_seen = client_output
        .split_once("Client certificate")
        .and_then(|(_, page)| cert_blocks(page).first().map(|b| block_sha1(b)));
    Handshake {
        client_output,
        server_output,
        server_verified,
        client_cert_seen,
    }
}
