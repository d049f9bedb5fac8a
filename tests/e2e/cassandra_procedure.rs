//! Seed 001's Cassandra TLS procedure done with certfleet alone: a root CA; a server
//! keystore (server.jks) holding the CA-signed key pair and the root; a client truststore
//! (client.jks) trusting the root. keytool then checks both stores, and openssl serves TLS
//! with the key and certificate exported from the keystore while `s_client` verifies it
//! against the root exported from the truststore.

use crate::keystore_interop::{cf, keytool_entry, keytool_list, scratch, words};
use crate::support::openssl::{openssl, sha1_fingerprint};
use crate::support::run::{arg, assert_ok, describe};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The password the seed uses for every store.
const PW: &str = "password";

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

fn start_s_server(cert: &Path, key: &Path, port: u16) -> ServerGuard {
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-cert",
            arg(cert),
            "-key",
            arg(key),
            "-www",
            "-accept",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("failed to start openssl s_server");
    let guard = ServerGuard(child);
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "s_server did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    guard
}

#[test]
fn cassandra_server_keystore_and_client_truststore_work_with_keytool_and_openssl() {
    let dir = scratch();
    let d = dir.path().display();
    let ok = |line: String| assert_ok(&cf(&line));

    // Step 2 of the seed: a self-signed root (RSA 2048 rather than the seed's 1024, which
    // today's openssl refuses at its default security level), a CA-signed server key pair.
    ok(format!("ca init --out {d}/ca --cn TestRoot --key rsa2048"));
    ok(format!(
        "cert issue --ca {d}/ca --cn cassandra.example.test --san localhost --ip 127.0.0.1 \
         --key rsa2048 --out {d}/server"
    ));
    // The server keystore: the key pair with its chain, and the root as a trusted entry;
    // the client truststore, trusting the root.
    let store = format!("--password {PW}");
    ok(format!(
        "keystore import-key {d}/server.jks {store} --alias server --key {d}/server.key \
         --cert {d}/server.crt --chain {d}/server.chain.crt"
    ));
    ok(format!(
        "keystore import-cert {d}/server.jks {store} --alias root --cert {d}/ca/root.crt"
    ));
    ok(format!(
        "keystore import-cert {d}/client.jks {store} --alias root --cert {d}/ca/root.crt"
    ));

    // keytool's view of both stores.
    let listing = keytool_list(&dir.join("server.jks"), PW);
    assert!(listing.contains("Keystore type: JKS"), "{listing}");
    assert!(
        listing.contains("Your keystore contains 2 entries"),
        "{listing}"
    );
    let server = keytool_entry(&listing, "server");
    assert_eq!(server, ("PrivateKeyEntry".into(), 2));
    assert_eq!(
        keytool_entry(&listing, "root"),
        ("trustedCertEntry".into(), 0)
    );
    let listing = keytool_list(&dir.join("client.jks"), PW);
    assert!(
        listing.contains("Your keystore contains 1 entry"),
        "{listing}"
    );
    assert_eq!(
        keytool_entry(&listing, "root"),
        ("trustedCertEntry".into(), 0)
    );

    // Out of the stores again: the server's key and certificate, the client's root.
    ok(format!(
        "keystore export {d}/server.jks {store} --alias server --key-out {d}/exported.key \
         --out {d}/exported.crt"
    ));
    ok(format!(
        "keystore export {d}/client.jks {store} --alias root --out {d}/root-from-truststore.pem"
    ));
    let sha1 = |name: &str| sha1_fingerprint(&dir.join(name));
    assert_eq!(sha1("exported.crt"), sha1("server.crt"));
    assert_eq!(sha1("root-from-truststore.pem"), sha1("ca/root.crt"));
    // `convert` makes the seed's client.pem for cqlsh (keytool -importkeystore, then
    // openssl pkcs12 -nodes) from the keystore in one step.
    ok(format!(
        "convert {d}/server.jks --to merged --in-password {PW} --alias server \
         --out {d}/client.pem"
    ));
    assert_eq!(sha1("client.pem"), sha1("server.crt"));

    // openssl serves TLS with what came out of the keystore; s_client trusts the root that
    // came out of the truststore, and checks the address.
    let port = free_port();
    let _server = start_s_server(&dir.join("exported.crt"), &dir.join("exported.key"), port);
    let out = openssl(words(&format!(
        "s_client -connect 127.0.0.1:{port} -CAfile {d}/root-from-truststore.pem \
         -verify_return_error -verify_ip 127.0.0.1"
    )));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Verify return code: 0 (ok)"),
        "{}",
        describe(&out)
    );
}
