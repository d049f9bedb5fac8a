//! One certificate shared by several nodes: the interaction-recording manual's "single
//! certificate to be used by all Cassandra nodes in the cluster", modelled as one service
//! with `nodes = ["cass01", "cass02"]` and `shared_certificate = true`, applied under a
//! scratch `--root`, then judged by keytool and openssl only:
//!
//! - each node gets its own copy of the files (`{node}` in the paths), and both nodes'
//!   `server.jks` hold the same key and the same certificate (keytool and openssl);
//! - that certificate names both nodes' FQDNs and addresses;
//! - the internode connection (the service to itself) puts its issuer in both nodes'
//!   `truststore.jks`;
//! - a client using the peer's deployed truststore verifies node b's files served by
//!   `openssl s_server`, checking node b's FQDN; the report lists both nodes;
//! - the contact-center manual's multi-server (SAN) certificate: a CSR made on the
//!   publisher naming both nodes is signed once and uploaded on the publisher only.

use crate::support::openssl::{openssl, s_client_page, SServer};
use crate::support::run::{arg, certfleet, describe, TempDir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const MODEL: &str = r#"[platform]
name = "rec"
ca = "internal"
ca_dir = "ca"
key = "rsa2048"

[[node]]
name = "cass01"
fqdn = "cass01.rec.example.test"
ips = ["10.60.0.31"]

[[node]]
name = "cass02"
fqdn = "cass02.rec.example.test"
ips = ["10.60.0.32"]

[[node]]
name = "rws01"
fqdn = "rws01.rec.example.test"

[[service]]
name = "cassandra"
kind = "cassandra"
nodes = ["cass01", "cass02"]
shared_certificate = true
listeners = ["0.0.0.0:7001", "0.0.0.0:9042"]
reload = "ssh {fqdn} sudo systemctl restart cassandra"

[[service.output]]
format = "jks"
path = "/srv/rec-stage/{node}/conf/server.jks"
alias = "cassandra"

[[service.output]]
format = "jks-trust"
path = "/srv/rec-stage/{node}/conf/truststore.jks"

[[service.output]]
format = "pem-pair"
path = "/srv/rec-stage/{node}/tls/cassandra"

[[service.output]]
format = "pem-chain"
path = "/srv/rec-stage/{node}/tls/chain.pem"

[[service]]
name = "rws"
node = "rws01"

[[service.output]]
format = "pem-trust"
path = "/srv/rec-stage/rws01/etc/ca_cert.pem"

# Internode encryption: every Cassandra node calls the others with the one certificate.
[[connection]]
from = "cassandra"
to = "cassandra"
mtls = true

[[connection]]
from = "rws"
to = "cassandra"
"#;

const CASS02_FQDN: &str = "cass02.rec.example.test";

struct Applied {
    _dir: TempDir,
    root: PathBuf,
    work: PathBuf,
    passwords: BTreeMap<String, String>,
    report: Value,
}

fn apply() -> Applied {
    let dir = TempDir::new();
    let root = dir.join("root");
    let work = dir.join("work");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(&work).unwrap();
    let model = dir.join("rec.toml");
    std::fs::write(&model, MODEL).unwrap();
    // Under --root the reload commands (ssh to the nodes) do not run.
    let out = certfleet(&[
        "apply",
        "--model",
        arg(&model),
        "--root",
        arg(&root),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("apply --json");
    let passwords = serde_json::from_str(
        &std::fs::read_to_string(root.join(".certfleet/rec/passwords.json"))
            .expect("passwords.json"),
    )
    .expect("passwords.json is a JSON object");
    Applied {
        _dir: dir,
        root,
        work,
        passwords,
        report,
    }
}

impl Applied {
    fn staged(&self, node: &str, file: &str) -> PathBuf {
        self.root.join(format!("srv/rec-stage/{node}/{file}"))
    }

    fn password(&self, path: &Path) -> String {
        self.passwords
            .get(arg(path))
            .unwrap_or_else(|| panic!("passwords.json has no {}", path.display()))
            .clone()
    }

    /// `keytool -list -v` of a JKS store.
    fn keytool_list(&self, path: &Path) -> String {
        let out = Command::new("keytool")
            .args(["-list", "-v", "-storetype", "JKS", "-keystore", arg(path)])
            .args(["-storepass", &self.password(path)])
            .stdin(Stdio::null())
            .output()
            .expect("failed to start keytool (run scripts/install-test-deps)");
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The public key (PEM) of the key entry of `node`'s server.jks, taken out with
    /// keytool (to PKCS#12) and openssl.
    fn keystore_public_key(&self, node: &str) -> String {
        let jks = self.staged(node, "conf/server.jks");
        let password = self.password(&jks);
        let p12 = self.work.join(format!("{node}.p12"));
        let out = Command::new("keytool")
            .args(["-importkeystore", "-noprompt", "-srcstoretype", "JKS"])
            .args(["-srckeystore", arg(&jks), "-srcstorepass", &password])
            .args(["-destkeystore", arg(&p12), "-deststoretype", "PKCS12"])
            .args(["-deststorepass", &password])
            .stdin(Stdio::null())
            .output()
            .expect("failed to start keytool");
        assert!(out.status.success(), "{}", describe(&out));
        let pass = format!("pass:{password}");
        let key = openssl([
            "pkcs12",
            "-in",
            arg(&p12),
            "-passin",
            &pass,
            "-nocerts",
            "-nodes",
        ]);
        assert!(key.status.success(), "{}", describe(&key));
        let key_file = self.work.join(format!("{node}.key"));
        std::fs::write(&key_file, &key.stdout).unwrap();
        let public = openssl(["pkey", "-in", arg(&key_file), "-pubout"]);
        assert!(public.status.success(), "{}", describe(&public));
        String::from_utf8_lossy(&public.stdout).into_owned()
    }
}

/// The `SHA256:` fingerprint lines of a `keytool -list -v` listing, in order.
fn sha256_lines(listing: &str) -> Vec<String> {
    listing
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("SHA256:"))
        .map(str::to_owned)
        .collect()
}

/// `openssl s_client` to `server` as node b, trusting only `trust`; what it printed.
fn connect(server: &SServer, trust: &Path) -> (bool, String) {
    s_client_page(
        server.addr,
        &[
            "-servername",
            CASS02_FQDN,
            "-verify_hostname",
            CASS02_FQDN,
            "-verify_return_error",
            "-no-CApath",
            "-no-CAstore",
            "-CAfile",
            arg(trust),
        ],
    )
}

#[test]
fn every_node_gets_the_one_key_and_certificate_and_a_peer_verifies_node_b() {
    let applied = apply();

    // Both nodes' keystores: one key entry each, the same certificate, the same key.
    let listings: Vec<String> = ["cass01", "cass02"]
        .iter()
        .map(|node| applied.keytool_list(&applied.staged(node, "conf/server.jks")))
        .collect();
    for listing in &listings {
        assert!(listing.contains("Entry type: PrivateKeyEntry"), "{listing}");
        assert!(listing.contains("Alias name: cassandra"), "{listing}");
    }
    let (first, second) = (sha256_lines(&listings[0]), sha256_lines(&listings[1]));
    assert!(!first.is_empty(), "{}", listings[0]);
    assert_eq!(
        first, second,
        "the nodes' keystores hold other certificates"
    );
    assert_eq!(
        applied.keystore_public_key("cass01"),
        applied.keystore_public_key("cass02"),
        "the nodes' keystores hold other keys"
    );
    let key_of = |node: &str| std::fs::read(applied.staged(node, "tls/cassandra.key")).unwrap();
    assert_eq!(key_of("cass01"), key_of("cass02"));

    // Its names cover both nodes.
    let cert = applied.staged("cass02", "tls/cassandra.crt");
    let text = openssl([
        "x509",
        "-in",
        arg(&cert),
        "-noout",
        "-ext",
        "subjectAltName",
    ]);
    assert!(text.status.success(), "{}", describe(&text));
    let sans = String::from_utf8_lossy(&text.stdout);
    for name in [
        "DNS:cass01.rec.example.test",
        "DNS:cass02.rec.example.test",
        "IP Address:10.60.0.31",
        "IP Address:10.60.0.32",
    ] {
        assert!(sans.contains(name), "{name} missing from {sans}");
    }

    // Internode: each node's truststore trusts the issuer of the shared certificate.
    for node in ["cass01", "cass02"] {
        let trust = applied.keytool_list(&applied.staged(node, "conf/truststore.jks"));
        assert!(trust.contains("Entry type: trustedCertEntry"), "{trust}");
        assert!(trust.contains("rec"), "{trust}");
    }

    // The peer verifies node b's files, checking node b's name.
    let server = SServer::start(
        &cert,
        &applied.staged("cass02", "tls/cassandra.key"),
        Some(&applied.staged("cass02", "tls/chain.pem")),
        &[],
    );
    let peer_trust = applied.root.join("srv/rec-stage/rws01/etc/ca_cert.pem");
    let (ok, said) = connect(&server, &peer_trust);
    assert!(ok, "{said}");
    assert!(said.contains("Verify return code: 0 (ok)"), "{said}");

    // The report names both nodes, and the reload runs once per node.
    let services = applied.report["services"].as_array().expect("services");
    let cassandra = services
        .iter()
        .find(|s| s["name"] == "cassandra")
        .expect("cassandra in the report");
    assert_eq!(cassandra["nodes"], serde_json::json!(["cass01", "cass02"]));
    let reload = cassandra["reload"].as_str().unwrap_or_default();
    assert!(
        reload.contains("ssh cass01.rec.example.test")
            && reload.contains("ssh cass02.rec.example.test"),
        "{reload}"
    );
    let next_steps =
        std::fs::read_to_string(applied.root.join(".certfleet/rec/next-steps.txt")).unwrap();
    assert!(
        next_steps.contains("on nodes cass01 and cass02, one key and certificate shared by all"),
        "{next_steps}"
    );
}

const UCCX_MODEL: &str = r#"[platform]
name = "ccx"
ca = "internal"
ca_dir = "ca"

[[node]]
name = "ccx-pub"
fqdn = "ccx-pub.cc.example.test"

[[node]]
name = "ccx-sub"
fqdn = "ccx-sub.cc.example.test"

[[service]]
name = "web"
kind = "uccx"
nodes = ["ccx-pub", "ccx-sub"]
shared_certificate = true
csr = "ccx-pub-tomcat.csr"

[[service.output]]
format = "der"
path = "/srv/ccx-stage/upload/tomcat.der"

[[service.output]]
format = "pem-chain"
path = "/srv/ccx-stage/upload/tomcat-chain.pem"
"#;

/// The contact-center manual's multi-server (SAN) certificate: the CSR made on the
/// publisher names both nodes; apply signs it once, and the next steps say to upload it
/// on the publisher only, the cluster handing it to the subscriber.
#[test]
fn a_multi_server_csr_from_the_publisher_is_signed_once_and_uploaded_there() {
    let dir = TempDir::new();
    let root = dir.join("root");
    std::fs::create_dir(&root).unwrap();
    let model = dir.join("ccx.toml");
    std::fs::write(&model, UCCX_MODEL).unwrap();
    // The appliance's Generate CSR, played by openssl: its key never reaches certfleet.
    let key = dir.join("appliance.key");
    let csr = dir.join("ccx-pub-tomcat.csr");
    let made = openssl([
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        arg(&key),
        "-out",
        arg(&csr),
        "-subj",
        "/CN=ccx-pub.cc.example.test",
        "-addext",
        "subjectAltName=DNS:ccx-pub.cc.example.test,DNS:ccx-sub.cc.example.test",
    ]);
    assert!(made.status.success(), "{}", describe(&made));
    let out = certfleet(&["apply", "--model", arg(&model), "--root", arg(&root)]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    // One certificate file, written once, naming both nodes.
    let leaf = root.join("srv/ccx-stage/upload/tomcat.der");
    let text = openssl([
        "x509",
        "-inform",
        "DER",
        "-in",
        arg(&leaf),
        "-noout",
        "-ext",
        "subjectAltName",
    ]);
    let sans = String::from_utf8_lossy(&text.stdout);
    assert!(
        sans.contains("DNS:ccx-pub.cc.example.test")
            && sans.contains("DNS:ccx-sub.cc.example.test"),
        "{sans}"
    );
    assert!(!root.join("srv/ccx-stage/ccx-sub").exists());

    let next_steps = std::fs::read_to_string(root.join(".certfleet/ccx/next-steps.txt")).unwrap();
    assert!(
        next_steps.contains("do these uploads on node ccx-pub only")
            && next_steps.contains("to ccx-sub"),
        "{next_steps}"
    );

    // A {node} in its upload file's path is refused, naming the file, line and key.
    std::fs::write(
        &model,
        UCCX_MODEL.replace("/srv/ccx-stage/upload/", "/srv/ccx-stage/{node}/"),
    )
    .unwrap();
    let out = certfleet(&["plan", "--model", arg(&model), "--root", arg(&root)]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ccx.toml:23: service.output.path:")
            && stderr.contains("uploaded on node 'ccx-pub' only"),
        "{stderr}"
    );
}
