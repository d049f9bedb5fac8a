//! Agents with the issuers other than the internal CA, and revoking a node, against a real
//! `certfleet serve` and real agents, judged by openssl:
//!
//! - a self-signed service: its node signs the certificate with its own key in
//!   `agent run --once`; a peer's PEM trust store then holds exactly that leaf, and
//!   `openssl s_client` with that trust store verifies an `s_server` serving the node's
//!   files;
//! - an external CA: the node's CSR carries the model's subject and names, `certfleet
//!   node csrs --out` writes it, an openssl CA signs it; a reply for another key is
//!   refused naming the difference, the right one is imported with `certfleet node
//!   reply`, the node deploys it and the peer's trust store holds the CA, which
//!   `openssl verify` and `s_client` accept;
//! - `certfleet node revoke`: the revoked node's next request is refused, and revoking
//!   it again says it is not enrolled.

use crate::agents::fixture::{Node, Platform, PLATFORM};
use crate::agents::fleet::{answered_200, s_client, ClientFiles};
use crate::support::openssl::{openssl, openssl_verify, SServer};
use crate::support::run::{arg, assert_ok, certfleet, describe, stdout};
use crate::support::serve::free_addr;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// `web` (self-signed) and `api` (an external CA) on node-a; node-b's `app` connects to
/// both and trusts them through a PEM trust store.
const MODEL: &str = r#"[platform]
name = "shop"
ca = "internal"
ca_dir = "ca"
key = "ecdsa-p256"
days = 30
org = "Shop"

[[node]]
name = "node-a"
fqdn = "web.shop.test"
ips = ["127.0.0.1"]

[[node]]
name = "node-b"
fqdn = "app.shop.test"
ips = ["127.0.0.1"]

[[service]]
name = "web"
node = "node-a"
ca = "self-signed"

[[service.output]]
format = "pem-pair"
path = "tls/web"

[[service]]
name = "api"
node = "node-a"
ca = "external"
cn = "api.shop.test"

[[service.output]]
format = "pem-pair"
path = "tls/api"

[[service]]
name = "app"
node = "node-b"

[[service.output]]
format = "pem-trust"
path = "app/trust.pem"

[[connection]]
from = "app"
to = "web"

[[connection]]
from = "app"
to = "api"
"#;

/// `certfleet ARGS --server ADMIN --data-dir DATA` against the platform's server.
fn admin(platform: &Platform, args: &[&str]) -> std::process::Output {
    let server = format!("https://{}", platform.server.admin);
    let mut all = args.to_vec();
    all.extend([
        "--server",
        &server,
        "--data-dir",
        arg(&platform.server.data_dir),
    ]);
    certfleet(&all)
}

/// The PEM certificates of a file, each as its own block.
fn pem_blocks(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let end = "-----END CERTIFICATE-----";
    text.split_inclusive(end)
        .filter_map(|part| {
            part.find("-----BEGIN CERTIFICATE-----")
                .map(|at| part[at..].to_owned())
        })
        .collect()
}

/// Runs `node`'s agent once until `done` holds (up to a minute): the server learns of
/// another node's certificate through its store watch.
fn run_until(node: &Node, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = node.run_once();
        if done() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 60 s; last pass:\n{}",
            describe(&out)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `s_client` with `trust` to an `s_server` serving `crt`/`key` as `name` answers 200.
fn serves_verified(crt: &Path, key: &Path, chain: Option<&Path>, name: &str, trust: &Path) {
    let server = SServer::start(crt, key, chain, &[]);
    let client = ClientFiles {
        trust: trust.to_path_buf(),
        pair: None,
    };
    let out = s_client(server.addr, name, &client);
    assert!(answered_200(&out), "s_client refused:\n{}", describe(&out));
}

#[test]
fn self_signed_and_external_ca_services_through_agents_and_a_revoked_node() {
    let platform = Platform::start_with_model(MODEL, free_addr());
    let node_a = platform.enroll("node-a", &[]);
    let node_b = platform.enroll("node-b", &[]);

    // The self-signed service is signed on node-a; the external one waits for its CA.
    let first = node_a.run_once();
    let text = stdout(&first);
    assert!(
        Node::line(&text, "web").starts_with("web current sha256="),
        "{}",
        describe(&first)
    );
    assert!(
        Node::line(&text, "api").starts_with("api waiting"),
        "{}",
        describe(&first)
    );
    let web_crt = node_a.file("tls/web.crt");
    let web_key = node_a.file("tls/web.key");
    let subject = openssl([
        "x509",
        "-noout",
        "-subject",
        "-issuer",
        "-in",
        arg(&web_crt),
    ]);
    let subject = String::from_utf8_lossy(&subject.stdout).to_string();
    assert!(
        subject.contains("subject=O = Shop, CN = web.shop.test")
            && subject.contains("issuer=O = Shop, CN = web.shop.test"),
        "{subject}"
    );
    let web_leaf = pem_blocks(&web_crt).remove(0);

    // node-b's trust store holds exactly that leaf, which verifies itself and the
    // served connection.
    let trust = node_b.file("app/trust.pem");
    run_until(&node_b, "app trusting web's self-signed leaf", || {
        pem_blocks(&trust).contains(&web_leaf)
    });
    openssl_verify(&trust, None, &web_crt).unwrap();
    serves_verified(&web_crt, &web_key, None, "web.shop.test", &trust);

    // The external CA's administrator gets node-a's CSR with the model's names.
    let to_sign = platform.dir.join("to-sign");
    let listed = admin(
        &platform,
        &[
            "node",
            "csrs",
            "--platform",
            PLATFORM,
            "--out",
            arg(&to_sign),
        ],
    );
    assert_ok(&listed);
    assert!(
        stdout(&listed).contains("api  node node-a"),
        "{}",
        describe(&listed)
    );
    let csr = to_sign.join("api.csr");
    let described = openssl(["req", "-noout", "-text", "-verify", "-in", arg(&csr)]);
    let described_text = String::from_utf8_lossy(&described.stdout).to_string();
    assert!(
        described_text.contains("O = Shop, CN = api.shop.test")
            && described_text.contains("DNS:api.shop.test"),
        "{}",
        describe(&described)
    );

    // An openssl CA signs it (and, by mistake first, another key's CSR).
    let ca_dir = platform.dir.join("outside-ca");
    fs::create_dir(&ca_dir).unwrap();
    let ca_key = ca_dir.join("ca.key");
    let ca_crt = ca_dir.join("ca.crt");
    let made = openssl([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        arg(&ca_key),
        "-out",
        arg(&ca_crt),
        "-days",
        "30",
        "-subj",
        "/CN=Outside CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    assert!(made.status.success(), "{}", describe(&made));
    let sign = |csr: &Path, out: &Path| {
        let leaf = out.with_extension("leaf");
        let signed = openssl([
            "x509",
            "-req",
            "-in",
            arg(csr),
            "-CA",
            arg(&ca_crt),
            "-CAkey",
            arg(&ca_key),
            "-CAcreateserial",
            "-days",
            "30",
            "-copy_extensions",
            "copyall",
            "-out",
            arg(&leaf),
        ]);
        assert!(signed.status.success(), "{}", describe(&signed));
        let reply = format!(
            "{}{}",
            fs::read_to_string(&leaf).unwrap(),
            fs::read_to_string(&ca_crt).unwrap()
        );
        fs::write(out, reply).unwrap();
    };
    let other_csr = ca_dir.join("other.csr");
    let other = openssl([
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        arg(&ca_dir.join("other.key")),
        "-out",
        arg(&other_csr),
        "-subj",
        "/O=Shop/CN=api.shop.test",
        "-addext",
        "subjectAltName=DNS:api.shop.test",
    ]);
    assert!(other.status.success(), "{}", describe(&other));
    let wrong_reply = ca_dir.join("wrong.pem");
    sign(&other_csr, &wrong_reply);
    let refused = admin(
        &platform,
        &[
            "node",
            "reply",
            "api",
            "--platform",
            PLATFORM,
            "--cert",
            arg(&wrong_reply),
        ],
    );
    assert!(!refused.status.success(), "{}", describe(&refused));
    assert!(
        describe(&refused).contains("carries a different public key from the CSR"),
        "{}",
        describe(&refused)
    );

    let reply = ca_dir.join("api.pem");
    sign(&csr, &reply);
    let imported = admin(
        &platform,
        &[
            "node",
            "reply",
            "api",
            "--platform",
            PLATFORM,
            "--cert",
            arg(&reply),
        ],
    );
    assert_ok(&imported);
    assert!(
        stdout(&imported).contains("reply imported") && stdout(&imported).contains("node-a"),
        "{}",
        describe(&imported)
    );

    // node-a deploys it; node-b's trust store gains the outside CA.
    let deployed = node_a.run_once();
    assert_ok(&deployed);
    let api_crt = node_a.file("tls/api.crt");
    assert_eq!(
        pem_blocks(&api_crt)[0],
        pem_blocks(&reply)[0],
        "the deployed leaf is the CA's reply"
    );
    let ca_pem = pem_blocks(&ca_crt).remove(0);
    run_until(&node_b, "app trusting the outside CA", || {
        pem_blocks(&trust).contains(&ca_pem)
    });
    openssl_verify(&trust, None, &api_crt).unwrap();
    serves_verified(
        &api_crt,
        &node_a.file("tls/api.key"),
        None,
        "api.shop.test",
        &trust,
    );

    // Revoking node-b: its next request is refused; a second revocation finds nothing.
    let revoked = admin(
        &platform,
        &["node", "revoke", "node-b", "--platform", PLATFORM],
    );
    assert_ok(&revoked);
    assert!(
        stdout(&revoked).contains("revoked"),
        "{}",
        describe(&revoked)
    );
    let refused = node_b.run_once();
    assert!(!refused.status.success(), "{}", describe(&refused));
    assert!(
        describe(&refused).contains("not enrolled"),
        "{}",
        describe(&refused)
    );
    let again = admin(
        &platform,
        &["node", "revoke", "node-b", "--platform", PLATFORM],
    );
    assert!(!again.status.success(), "{}", describe(&again));
    assert!(
        describe(&again).contains("node node-b of platform shop is not enrolled"),
        "{}",
        describe(&again)
    );
}
