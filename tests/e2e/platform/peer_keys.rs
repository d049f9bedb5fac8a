//! Kinds of service that take only some keys, as the contact-center suite's manual
//! states them: "UCCX only supports certificate key lengths of 1024 and 2048 bits", and
//! from 11.6 on ECDSA certificates are removed from the whole solution (UCCX, SM/CCP,
//! CUIC and Finesse). A service of such a kind gets RSA 2048 by default, and so does a
//! new internal CA signing it, judged by openssl and keytool; a key the kind refuses is
//! a model error.

use super::snapshot;
use crate::support::openssl::{openssl, openssl_verify};
use crate::support::run::{arg, certfleet, describe, TempDir};
use std::path::Path;
use std::process::Command;

/// A platform whose default key is ECDSA, with two services of the suite and one nginx.
const MODEL: &str = r#"[platform]
name = "ccx"
ca = "internal"
ca_dir = "ca"
key = "ecdsa-p256"

[[node]]
name = "ccx-pub"
fqdn = "ccx-pub.cc.corp.example"

[[service]]
name = "finesse-pub"
kind = "finesse"
node = "ccx-pub"

[[service.output]]
format = "pem-pair"
path = "/srv/ccx/finesse/tomcat"

[[service.output]]
format = "jks"
path = "/srv/ccx/finesse/tomcat.jks"
alias = "tomcat"

[[service]]
name = "uccx-pub"
kind = "UCCX"
node = "ccx-pub"

[[service.output]]
format = "pem-pair"
path = "/srv/ccx/uccx/tomcat"

[[service]]
name = "portal"
kind = "nginx"
node = "ccx-pub"

[[service.output]]
format = "pem-pair"
path = "/srv/ccx/portal/tls"

[[service.output]]
format = "pem-trust"
path = "/srv/ccx/portal/trust.pem"

[[connection]]
from = "portal"
to = "finesse-pub"
"#;

/// `certfleet COMMAND --model DIR/model.toml --root DIR/root --json` on `model`.
fn run(dir: &TempDir, command: &str, model: &str) -> std::process::Output {
    let file = dir.join("model.toml");
    std::fs::write(&file, model).unwrap();
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    certfleet(&[
        command,
        "--model",
        arg(&file),
        "--root",
        arg(&root),
        "--json",
    ])
}

/// openssl's text of the certificate at `path`.
fn x509_text(path: &Path) -> String {
    let out = openssl(["x509", "-in", arg(path), "-noout", "-text"]);
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn uccx_only_supports_key_lengths_of_1024_and_2048_bits_so_its_services_get_rsa_2048() {
    let dir = TempDir::new();
    let out = run(&dir, "apply", MODEL);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let root = dir.join("root");
    for leaf in ["srv/ccx/finesse/tomcat.crt", "srv/ccx/uccx/tomcat.crt"] {
        let text = x509_text(&root.join(leaf));
        assert!(
            text.contains("Public Key Algorithm: rsaEncryption")
                && text.contains("Public-Key: (2048 bit)"),
            "{leaf} is not RSA 2048:\n{text}"
        );
    }
    // The suite loads the internal CA as its trust anchor: the new CA is RSA 2048 too,
    // and openssl verifies the suite's certificates with it.
    for ca in ["ca/root.crt", "ca/intermediate.crt"] {
        let text = x509_text(&root.join(ca));
        assert!(
            text.contains("Public Key Algorithm: rsaEncryption")
                && text.contains("Public-Key: (2048 bit)"),
            "{ca} is not RSA 2048:\n{text}"
        );
    }
    openssl_verify(
        &root.join("ca/root.crt"),
        Some(&root.join("ca/intermediate.crt")),
        &root.join("srv/ccx/finesse/tomcat.crt"),
    )
    .unwrap();
    // Other kinds keep the platform's key.
    let text = x509_text(&root.join("srv/ccx/portal/tls.crt"));
    assert!(
        text.contains("Public Key Algorithm: id-ecPublicKey") && text.contains("NIST CURVE: P-256"),
        "portal is not ECDSA P-256:\n{text}"
    );
    // The keystore Tomcat loads holds the RSA 2048 key, as keytool reads it.
    let passwords: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(".certfleet/ccx/passwords.json")).unwrap(),
    )
    .unwrap();
    let password = passwords
        .as_object()
        .unwrap()
        .iter()
        .find(|(path, _)| path.ends_with("finesse/tomcat.jks"))
        .and_then(|(_, p)| p.as_str())
        .unwrap_or_else(|| panic!("no password for the keystore: {passwords}"))
        .to_owned();
    let jks = root.join("srv/ccx/finesse/tomcat.jks");
    let out = Command::new("keytool")
        .args([
            "-list",
            "-v",
            "-keystore",
            arg(&jks),
            "-storepass",
            &password,
        ])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        listing.contains("Entry type: PrivateKeyEntry") && listing.contains("2048-bit RSA key"),
        "{listing}"
    );
}

#[test]
fn uccx_11_6_removed_ecdsa_certificates_so_a_key_the_kind_refuses_is_a_model_error() {
    for (key, named) in [
        ("ecdsa-p256", "ecdsa-p256"),
        ("ecdsa-p384", "ecdsa-p384"),
        ("rsa4096", "rsa4096"),
    ] {
        let model = MODEL.replace(
            "kind = \"UCCX\"\nnode = \"ccx-pub\"\n",
            &format!("kind = \"UCCX\"\nnode = \"ccx-pub\"\nkey = \"{key}\"\n"),
        );
        // The service's key, after the platform's.
        let lines: Vec<&str> = model.lines().collect();
        let line = lines
            .iter()
            .rposition(|l| *l == format!("key = \"{key}\""))
            .unwrap()
            + 1;
        for command in ["plan", "apply"] {
            let dir = TempDir::new();
            let out = run(&dir, command, &model);
            assert_eq!(out.status.code(), Some(2), "{key}: {}", describe(&out));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains(&format!("model.toml:{line}: service.key:")),
                "{key}: {command} does not name the file, line {line} and key:\n{stderr}"
            );
            assert!(
                stderr.contains("'UCCX'")
                    && stderr.contains("rsa2048 or rsa1024")
                    && stderr.contains(named),
                "{key}: {stderr}"
            );
            assert!(
                snapshot(&dir.join("root")).is_empty(),
                "{key}: {command} wrote files"
            );
        }
    }
}
