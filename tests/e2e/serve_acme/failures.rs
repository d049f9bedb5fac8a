//! An ACME server that cannot be used says which URL failed and why, in the domain's
//! `last_error`: nothing listening (connection refused), and a server presenting a CA
//! certificate as its own (openssl s_server serving the root itself).

use super::{EMAIL, MASTER};
use crate::support::openssl::SServer;
use crate::support::pki::Ca;
use crate::support::run::{arg, TempDir};
use crate::support::serve::{free_addr, ServeConfig, Server};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A server whose `[acme] directory` is `directory`, trusting `ca_bundle`, with ACME on
/// for one domain.
fn server_with_directory(dir: &TempDir, directory: &str, ca_bundle: &std::path::Path) -> Server {
    let mut serve = ServeConfig::new(dir.path());
    serve.listener("web", None, None);
    serve.append(&format!(
        "[acme]\ndirectory = \"{directory}\"\nca_bundle = \"{}\"\n",
        arg(ca_bundle)
    ));
    let server = serve.start();
    server.domain_ok(&["add", MASTER, "--json"]);
    server.domain_ok(&["acme", MASTER, "--email", EMAIL, "--json"]);
    server
}

/// The domain's `last_error` once its first attempt failed.
fn first_error(server: &Server) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let view: Value = server.domain_ok(&["show", MASTER, "--json"]);
        if let Some(error) = view["acme"]["last_error"].as_str() {
            return error.to_owned();
        }
        assert!(Instant::now() < deadline, "no attempt failed: {view}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn an_unusable_acme_server_is_named_with_the_reason() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Lab");

    // Nothing listens at the directory's address.
    let nobody = format!("https://{}/dir", free_addr());
    let refused_dir = TempDir::new();
    let server = server_with_directory(&refused_dir, &nobody, &ca.root());
    let error = first_error(&server);
    assert!(
        error.contains(&nobody) && error.contains("connection refused"),
        "{error}"
    );
    assert!(!error.contains("client error (Connect)"), "{error}");
    drop(server);

    // The directory's server presents the root CA certificate itself.
    let root_key = ca.dir().join("root.key");
    let tls = SServer::start(&ca.root(), &root_key, None, &[]);
    let directory = format!("https://127.0.0.1:{}/dir", tls.addr.port());
    let ca_as_server_dir = TempDir::new();
    let server = server_with_directory(&ca_as_server_dir, &directory, &ca.root());
    let error = first_error(&server);
    assert!(
        error.contains(&directory)
            && error.contains("a CA certificate used as a server certificate"),
        "{error}"
    );
}
