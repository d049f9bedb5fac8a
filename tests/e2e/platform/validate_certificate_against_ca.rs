//! The interaction-recording manual's "Validate the Certificate Against the CA" and
//! "Configuring RWS with Elasticsearch default certificates": the web service must trust
//! CAs that certfleet did not issue, given as files: Elasticsearch's own `http_ca.crt`
//! (PEM, made here with openssl) and a Configuration Server CA in a JKS made with keytool
//! (its password a `CRYPT:` value). Both must end up in every truststore of the service
//! (JKS, PKCS#12, PEM) beside the internal CA, be reported with the model's `why`, and
//! let `openssl s_client` verify an `openssl s_server` whose certificate those CAs
//! issued, while a server of a CA nobody listed is still refused. A wrong keystore
//! password or a missing file stops plan with exit 2, naming the model's line and key
//! and the file.

use super::material::{keytool, keytool_list};
use crate::support::openssl::{openssl, sha256_fingerprint, SServer};
use crate::support::run::{arg, describe, TempDir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fixed test master key (base64 of 32 bytes).
const MASTER_KEY: &str = "Y2VydGZsZWV0IGUyZSB0cnVzdCBmaWxlcyBrZXkgISE=";
/// The Configuration Server CA's JKS password.
const JKS_PASSWORD: &str = "Cs-Trust-2026!";
/// The written truststores' password.
const TRUST_PASSWORD: &str = "changeit-rws";

/// certfleet with `args`, the test's master key in the environment.
fn certfleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(args)
        .stdin(Stdio::null())
        .env("CERTFLEET_MASTER_KEY", MASTER_KEY)
        .output()
        .expect("failed to start the certfleet binary")
}

/// openssl with `args`, which must succeed.
fn ok(args: &[&str]) {
    let out = openssl(args);
    assert!(out.status.success(), "openssl {args:?}\n{}", describe(&out));
}

/// A CA made with openssl: its certificate and key in `dir`.
fn make_ca(dir: &Path, name: &str, subject: &str) -> (PathBuf, PathBuf) {
    let (crt, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        arg(&key),
        "-out",
        arg(&crt),
        "-subj",
        subject,
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    (crt, key)
}

/// A server certificate for `localhost` issued by the CA (`ca`, `ca_key`).
fn make_server(dir: &Path, name: &str, ca: &Path, ca_key: &Path) -> (PathBuf, PathBuf) {
    let (crt, key, csr) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.csr")),
    );
    ok(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        arg(&key),
        "-out",
        arg(&csr),
        "-subj",
        "/CN=localhost",
    ]);
    let ext = dir.join(format!("{name}.cnf"));
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n",
    )
    .unwrap();
    ok(&[
        "x509",
        "-req",
        "-in",
        arg(&csr),
        "-CA",
        arg(ca),
        "-CAkey",
        arg(ca_key),
        "-CAcreateserial",
        "-days",
        "20",
        "-extfile",
        arg(&ext),
        "-out",
        arg(&crt),
    ]);
    (crt, key)
}

/// Whether `openssl s_client` verifies `server` with `ca_file` as its only trust.
fn verifies(server: &SServer, ca_file: &Path) -> bool {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &server.addr.to_string()])
        .args(["-servername", "localhost", "-verify_hostname", "localhost"])
        .args(["-verify_return_error", "-CAfile", arg(ca_file)])
        .stdin(Stdio::null())
        .output()
        .expect("failed to start openssl s_client");
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && text.contains("Verify return code: 0 (ok)")
}

/// The model: a Jetty web service (client of the internal-CA SIP server) that trusts
/// Elasticsearch's CA and the Configuration Server's, with three truststores.
fn model(sealed: &str) -> String {
    format!(
        r#"[platform]
name = "gir"
key = "ecdsa-p256"

[[node]]
name = "rws01"
fqdn = "rws01.gir.example"

[[service]]
name = "sip"
node = "rws01"

[[service]]
name = "rws"
kind = "jetty"
node = "rws01"
usage = "client"

[[service.output]]
format = "jks-trust"
path = "/opt/gir/etc/truststore.jks"
password = "{TRUST_PASSWORD}"

[[service.output]]
format = "pkcs12-trust"
path = "/opt/gir/etc/truststore.p12"
password = "{TRUST_PASSWORD}"

[[service.output]]
format = "pem-trust"
path = "/opt/gir/etc/trusted-cas.pem"

[[service.trust]]
file = "/etc/elasticsearch/certs/http_ca.crt"
why = "Elasticsearch signed its HTTP certificate with the CA it made on first start"

[[service.trust]]
file = "/opt/gir/cs-ca.jks"
password = "{sealed}"
why = "the Configuration Server's certificate is checked against its CA (caCertificate)"

[[connection]]
from = "rws"
to = "sip"
"#
    )
}

/// The trust listing of service `name` in a plan or apply report.
fn trust_of<'a>(report: &'a Value, name: &str) -> &'a Vec<Value> {
    report["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .and_then(|s| s["trust"].as_array())
        .unwrap_or_else(|| panic!("no trust listing for {name}: {report:#}"))
}

#[test]
fn ca_files_certfleet_did_not_issue_go_into_every_truststore_and_verify_their_servers() {
    let dir = TempDir::new();
    let root = dir.join("root");
    let work = dir.join("work");
    for d in [
        &root.join("etc/elasticsearch/certs"),
        &root.join("opt/gir"),
        &work,
    ] {
        std::fs::create_dir_all(d).unwrap();
    }
    // Elasticsearch's auto-configured HTTP CA, copied where the node keeps it.
    let (es_ca, es_ca_key) = make_ca(&work, "es-ca", "/CN=Elasticsearch HTTP CA");
    let es_ca_file = root.join("etc/elasticsearch/certs/http_ca.crt");
    std::fs::copy(&es_ca, &es_ca_file).unwrap();
    // The Configuration Server's CA, imported into a JKS with keytool.
    let (cs_ca, cs_ca_key) = make_ca(
        &work,
        "cs-ca",
        "/O=Contact Center/CN=Configuration Server CA",
    );
    let cs_jks = root.join("opt/gir/cs-ca.jks");
    let imported = keytool(&[
        "-importcert",
        "-noprompt",
        "-alias",
        "cs-ca",
        "-file",
        arg(&cs_ca),
        "-keystore",
        arg(&cs_jks),
        "-storetype",
        "JKS",
        "-storepass",
        JKS_PASSWORD,
    ]);
    assert!(imported.status.success(), "{}", describe(&imported));
    // A CA nobody listed.
    let (other_ca, other_ca_key) = make_ca(&work, "other-ca", "/CN=Unlisted CA");

    let sealed = certfleet(&["encrypt", "--for", "service.trust.password", JKS_PASSWORD]);
    assert_eq!(sealed.status.code(), Some(0), "{}", describe(&sealed));
    let sealed = String::from_utf8_lossy(&sealed.stdout).trim().to_owned();
    let model_file = dir.join("gir.toml");
    std::fs::write(&model_file, model(&sealed)).unwrap();
    let run = |command: &str| {
        certfleet(&[
            command,
            "--model",
            arg(&model_file),
            "--root",
            arg(&root),
            "--json",
        ])
    };
    let json = |out: &Output| -> Value {
        assert_eq!(out.status.code(), Some(0), "{}", describe(out));
        serde_json::from_slice(&out.stdout).unwrap()
    };

    // plan lists both CAs with the model's why and their files, beside the internal CA.
    let plan = json(&run("plan"));
    let listed: Vec<&Value> = trust_of(&plan, "rws")
        .iter()
        .filter(|t| t["files"].as_array().is_some_and(|f| !f.is_empty()))
        .collect();
    assert_eq!(listed.len(), 2, "{plan:#}");
    assert_eq!(listed[0]["subject"], "CN=Elasticsearch HTTP CA", "{plan:#}");
    assert_eq!(listed[0]["files"][0], arg(&es_ca_file), "{plan:#}");
    assert!(
        listed[0]["because"][0]
            .as_str()
            .is_some_and(|b| b.starts_with("Elasticsearch signed")),
        "{plan:#}"
    );
    assert_eq!(listed[1]["files"][0], arg(&cs_jks), "{plan:#}");
    assert!(!plan.to_string().contains(JKS_PASSWORD));

    // apply writes them into the JKS, the PKCS#12 and the PEM truststore.
    let applied = json(&run("apply"));
    assert_eq!(
        trust_of(&applied, "rws").len(),
        4,
        "root, intermediate and two listed CAs: {applied:#}"
    );
    assert!(applied["next_steps"]
        .as_str()
        .is_some_and(|t| t.contains("from the model's trust file") && t.contains("http_ca.crt")));
    let etc = root.join("opt/gir/etc");
    let wanted = [sha256_fingerprint(&es_ca), sha256_fingerprint(&cs_ca)];
    for store in ["truststore.jks", "truststore.p12"] {
        let listing = keytool_list(&etc.join(store), TRUST_PASSWORD).replace(':', "");
        assert_eq!(
            listing.matches("trustedCertEntry").count(),
            4,
            "{store}:\n{listing}"
        );
        for fingerprint in &wanted {
            assert!(
                listing.contains(fingerprint.as_str()),
                "{store} lacks {fingerprint}:\n{listing}"
            );
        }
    }
    // The PKCS#12 truststore as openssl reads it, and the PEM one, each verify both
    // listed CAs' servers and refuse the unlisted one's.
    let from_p12 = work.join("from-p12.pem");
    ok(&[
        "pkcs12",
        "-in",
        arg(&etc.join("truststore.p12")),
        "-nokeys",
        "-passin",
        &format!("pass:{TRUST_PASSWORD}"),
        "-out",
        arg(&from_p12),
    ]);
    let es_node = make_server(&work, "es-node", &es_ca, &es_ca_key);
    let cs_node = make_server(&work, "cs-node", &cs_ca, &cs_ca_key);
    let other_node = make_server(&work, "other-node", &other_ca, &other_ca_key);
    let es_server = SServer::start(&es_node.0, &es_node.1, None, &[]);
    let cs_server = SServer::start(&cs_node.0, &cs_node.1, None, &[]);
    let other_server = SServer::start(&other_node.0, &other_node.1, None, &[]);
    for trust in [etc.join("trusted-cas.pem"), from_p12] {
        assert!(
            verifies(&es_server, &trust),
            "the Elasticsearch node with {}",
            trust.display()
        );
        assert!(
            verifies(&cs_server, &trust),
            "the Configuration Server with {}",
            trust.display()
        );
        assert!(
            !verifies(&other_server, &trust),
            "an unlisted CA's server with {}",
            trust.display()
        );
    }

    // Nothing changed: a second plan is empty.
    let again = json(&run("plan"));
    assert_eq!(
        again["changes"].as_array().map(Vec::len),
        Some(0),
        "{again:#}"
    );
}

#[test]
fn a_trust_file_that_does_not_open_stops_plan_naming_line_key_and_file() {
    let dir = TempDir::new();
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("opt/gir")).unwrap();
    std::fs::create_dir_all(root.join("etc/elasticsearch/certs")).unwrap();
    let (ca, _) = make_ca(dir.path(), "ca", "/CN=Some CA");
    std::fs::copy(&ca, root.join("etc/elasticsearch/certs/http_ca.crt")).unwrap();
    let jks = root.join("opt/gir/cs-ca.jks");
    let imported = keytool(&[
        "-importcert",
        "-noprompt",
        "-alias",
        "cs-ca",
        "-file",
        arg(&ca),
        "-keystore",
        arg(&jks),
        "-storetype",
        "JKS",
        "-storepass",
        JKS_PASSWORD,
    ]);
    assert!(imported.status.success(), "{}", describe(&imported));
    let model_file = dir.join("gir.toml");
    let plan = || certfleet(&["plan", "--model", arg(&model_file), "--root", arg(&root)]);
    // The JKS's table: `file` on line 38, `password` on line 39.
    let wrong = model("Not-The-Password");
    assert_eq!(wrong.lines().nth(37), Some("file = \"/opt/gir/cs-ca.jks\""));
    std::fs::write(&model_file, &wrong).unwrap();
    let out = plan();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:39: service.trust.password:",
            model_file.display()
        )) && stderr.contains(arg(&jks))
            && stderr.contains("wrong password"),
        "{}",
        describe(&out)
    );
    assert!(!stderr.contains("Not-The-Password"), "{stderr}");

    std::fs::remove_file(root.join("etc/elasticsearch/certs/http_ca.crt")).unwrap();
    std::fs::write(&model_file, model(JKS_PASSWORD)).unwrap();
    let out = plan();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:34: service.trust.file:", model_file.display()))
            && stderr.contains(
                &root
                    .join("etc/elasticsearch/certs/http_ca.crt")
                    .display()
                    .to_string()
            ),
        "{}",
        describe(&out)
    );
}
