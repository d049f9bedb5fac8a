//! ACME against Pebble: `certfleet serve` ordering certificates for domains with
//! ACME on, answering real HTTP-01 validations on its HTTP listener and TLS-ALPN-01 on
//! its HTTPS listener, serving what it got by SNI, renewing on schedule, and backing off
//! while the ACME server does not answer, and saying which URL failed and why.
//!
//! [`Scene`] is one server with its own Pebble pointed at its listeners.

mod failures;
mod issuance;
mod renewal;

use crate::support::pebble::Pebble;
use crate::support::run::{arg, describe, TempDir};
use crate::support::serve::{s_client, ServeConfig, Server};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The master domain every scene starts with.
const MASTER: &str = "example.test";
/// The ACME account contact.
const EMAIL: &str = "pki-admin@example.test";

/// A server, its Pebble, and the master domain.
pub struct Scene {
    _dir: TempDir,
    pebble: Pebble,
    server: Server,
    /// The HTTPS listener (role `web`).
    https: SocketAddr,
}

impl Scene {
    /// Starts Pebble and the server (`challenge` as `[acme] challenge`; Pebble issuing
    /// for `validity_secs` when given) and adds the master domain.
    pub fn start(challenge: &str, validity_secs: Option<u64>) -> Scene {
        let dir = TempDir::new();
        let mut serve = ServeConfig::new(dir.path());
        let https = serve.listener("web", None, None);
        let pebble = Pebble::start(serve.http.port(), https.port(), validity_secs);
        serve.append(&format!(
            "[acme]\ndirectory = \"{}\"\nca_bundle = \"{}\"\nchallenge = \"{challenge}\"\n",
            pebble.directory(),
            arg(&pebble.api_certificate()),
        ));
        let server = serve.start();
        server.domain_ok(&["add", MASTER, "--json"]);
        Scene {
            _dir: dir,
            pebble,
            server,
            https,
        }
    }

    /// Adds `name` under the master and turns ACME on for it.
    pub fn enable(&self, name: &str) {
        self.server
            .domain_ok(&["add", name, "--parent", MASTER, "--json"]);
        self.server
            .domain_ok(&["acme", name, "--email", EMAIL, "--json"]);
    }

    /// `domain show NAME --json`.
    pub fn show(&self, name: &str) -> Value {
        self.server.domain_ok(&["show", name, "--json"])
    }

    /// Waits until `name` holds an automatically issued certificate other than
    /// `previous` (a SHA-1 thumbprint), giving up after `limit`; its view.
    pub fn wait_issued(&self, name: &str, previous: Option<&str>, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let view = self.show(name);
            let cert = &view["certificate"];
            if cert["auto_issued"] == Value::Bool(true)
                && cert["sha1_thumbprint"].as_str() != previous
            {
                return view;
            }
            assert!(
                Instant::now() < deadline,
                "{name} got no certificate within {limit:?}: {view}\n{}\n--- pebble ---\n{}",
                self.server.logs(),
                self.pebble.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Checks that a handshake for `name` gets the certificate `domain show` reports and
    /// that openssl verifies it against Pebble's root.
    pub fn assert_served_and_verified(&self, name: &str, view: &Value) {
        let (root, _) = self.pebble.roots();
        let out = s_client(
            self.https,
            Some(name),
            &[
                "-CAfile",
                arg(&root),
                "-verify_return_error",
                "-verify_hostname",
                name,
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Verify return code: 0 (ok)"),
            "{name} does not verify against Pebble's root:\n{}",
            describe(&out)
        );
        let served = crate::support::serve::served_sha1(self.https, Some(name));
        assert_eq!(
            Some(served.as_str()),
            view["certificate"]["sha1_thumbprint"].as_str(),
            "{name}: served certificate differs from domain show"
        );
    }
}
