//! The openssl command-line tool as an independent judge of what certfleet
//! writes: chain verification and certificate fingerprints, and `openssl s_server` as a
//! real TLS endpoint.

use super::serve::free_addr;
use std::ffi::OsStr;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `openssl` with `args`, stdin closed.
pub fn openssl<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("failed to start openssl (run scripts/install-test-deps)")
}

/// `openssl verify -CAfile root [-untrusted untrusted] leaf`: Ok when openssl
/// accepts the chain, else Err with everything openssl printed.
pub fn openssl_verify(root: &Path, untrusted: Option<&Path>, leaf: &Path) -> Result<(), String> {
    let mut args = vec![
        OsStr::new("verify"),
        OsStr::new("-CAfile"),
        root.as_os_str(),
    ];
    if let Some(untrusted) = untrusted {
        args.push(OsStr::new("-untrusted"));
        args.push(untrusted.as_os_str());
    }
    args.push(leaf.as_os_str());
    let out = openssl(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.trim_end().ends_with(": OK") {
        Ok(())
    } else {
        Err(format!(
            "openssl verify failed ({:?}):\n{stdout}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// SHA-1 fingerprint of the first certificate in `cert` (PEM, DER or a merged
/// bundle): 40 upper-case hex digits, no colons.
pub fn sha1_fingerprint(cert: &Path) -> String {
    fingerprint(cert, "-sha1")
}

/// SHA-256 fingerprint of the first certificate in `cert`: 64 upper-case hex
/// digits, no colons.
pub fn sha256_fingerprint(cert: &Path) -> String {
    fingerprint(cert, "-sha256")
}

fn fingerprint(cert: &Path, digest: &str) -> String {
    let out = openssl([
        OsStr::new("x509"),
        OsStr::new("-noout"),
        OsStr::new("-fingerprint"),
        OsStr::new(digest),
        OsStr::new("-in"),
        cert.as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openssl could not read {}: {}",
        cert.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // Prints e.g. "sha1 Fingerprint=0D:CF:...".
    let (_, hex) = stdout
        .trim()
        .split_once('=')
        .unwrap_or_else(|| panic!("unexpected openssl fingerprint output: {stdout}"));
    hex.replace(':', "").to_ascii_uppercase()
}

/// An `openssl s_server -www` on a fresh loopback port, killed when dropped.
pub struct SServer {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl SServer {
    /// Serves `cert` with `key`, and `chain` when given and present; `extra` adds
    /// options such as `-no_tls1_3`. Returns once it accepts connections.
    pub fn start(cert: &Path, key: &Path, chain: Option<&Path>, extra: &[&str]) -> SServer {
        let addr = free_addr();
        let mut command = Command::new("openssl");
        command
            .args(["s_server", "-accept", &addr.to_string(), "-www"])
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key);
        if let Some(chain) = chain.filter(|chain| chain.exists()) {
            command.arg("-cert_chain").arg(chain);
        }
        let child = command
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("failed to start openssl s_server");
        let server = SServer { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "s_server did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `openssl s_client -connect ADDR` (under a 30 s `timeout`) with `args` after it: asks an
/// `s_server -www` for its status page. Whether s_client succeeded, and everything it
/// printed, standard output then standard error.
pub fn s_client_page(addr: SocketAddr, args: &[&str]) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new("timeout")
        .args(["30", "openssl", "s_client", "-connect", &addr.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start openssl s_client");
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.0\r\n\r\n");
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}\n--- s_client stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
