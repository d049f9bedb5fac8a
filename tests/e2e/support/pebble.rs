//! Pebble, Let's Encrypt's ACME test server, with pebble-challtestsrv as its DNS (every
//! name answers 127.0.0.1), both on loopback ports of their own, so that Pebble's
//! validations reach the certfleet listeners under test: HTTP-01 on `http_port`,
//! TLS-ALPN-01 on `tls_port`. Nonce rejection stays on (5% of good nonces are refused;
//! clients must retry). Pebble's own HTTPS certificate is made with the certfleet CLI.

use super::run::{arg, assert_ok, certfleet, TempDir};
use super::serve::free_addr;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Pebble with its DNS server; both killed when dropped.
pub struct Pebble {
    pebble: Option<Child>,
    dns: Child,
    dir: TempDir,
    /// The ACME API (`https://ADDR/dir`).
    pub api: SocketAddr,
    management: SocketAddr,
    dns_address: SocketAddr,
}

impl Pebble {
    /// Starts Pebble validating HTTP-01 on `http_port` and TLS-ALPN-01 on `tls_port`
    /// of 127.0.0.1, issuing certificates valid for `validity_secs` when given.
    pub fn start(http_port: u16, tls_port: u16, validity_secs: Option<u64>) -> Pebble {
        let dir = TempDir::new();
        let cert = dir.join("pebble");
        assert_ok(&certfleet(&[
            "cert",
            "issue",
            "--self-signed",
            "--cn",
            "localhost",
            "--ip",
            "127.0.0.1",
            "--out",
            arg(&cert),
        ]));
        let (api, management, dns_addr, dns_management) =
            (free_addr(), free_addr(), free_addr(), free_addr());
        let validity = validity_secs
            .map(|secs| format!(",\n    \"certificateValidityPeriod\": {secs}"))
            .unwrap_or_default();
        let config = format!(
            r#"{{
  "pebble": {{
    "listenAddress": "{api}",
    "managementListenAddress": "{management}",
    "certificate": "{cert}",
    "privateKey": "{key}",
    "httpPort": {http_port},
    "tlsPort": {tls_port},
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false{validity}
  }}
}}"#,
            cert = dir.join("pebble.crt").display(),
            key = dir.join("pebble.key").display(),
        );
        std::fs::write(dir.join("pebble.json"), config).unwrap();
        let dns = Command::new("pebble-challtestsrv")
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .args(["-dns01", &dns_addr.to_string()])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &dns_management.to_string()])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("challtestsrv.log")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble-challtestsrv did not start: run scripts/install-test-deps");
        let mut pebble = Pebble {
            pebble: None,
            dns,
            dir,
            api,
            management,
            dns_address: dns_addr,
        };
        pebble.launch();
        pebble
    }

    fn launch(&mut self) {
        let log = std::fs::File::create(self.dir.join("pebble.log")).unwrap();
        let child = Command::new("pebble")
            .args(["-config", arg(&self.dir.join("pebble.json"))])
            .args(["-dnsserver", &self.dns_address.to_string()])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("pebble did not start: run scripts/install-test-deps");
        self.pebble = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&self.api, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "pebble never listened\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The directory URL.
    pub fn directory(&self) -> String {
        format!("https://{}/dir", self.api)
    }

    /// The file certfleet trusts Pebble's API with (`[acme] ca_bundle`).
    pub fn api_certificate(&self) -> PathBuf {
        self.dir.join("pebble.crt")
    }

    /// Pebble's issuing root and intermediate, fetched from its management API, as
    /// files (root, intermediate).
    pub fn roots(&self) -> (PathBuf, PathBuf) {
        let fetch = |path: &str, file: &str| {
            let out_file = self.dir.join(file);
            let url = format!("https://{}{path}", self.management);
            let out = Command::new("curl")
                .args([
                    "-sS",
                    "--fail",
                    "--cacert",
                    arg(&self.api_certificate()),
                    "-o",
                ])
                .arg(&out_file)
                .arg(&url)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "curl {url}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out_file
        };
        (
            fetch("/roots/0", "pebble-root.pem"),
            fetch("/intermediates/0", "pebble-intermediate.pem"),
        )
    }

    /// Freezes Pebble (SIGSTOP): connections are accepted by the kernel but never
    /// answered, as with a server that hangs.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen Pebble run again (SIGCONT), its state intact.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.pebble.as_ref().expect("pebble is running").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Pebble's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pebble.log")).unwrap_or_default()
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        if let Some(mut child) = self.pebble.take() {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.dns.kill();
        let _ = self.dns.wait();
    }
}
