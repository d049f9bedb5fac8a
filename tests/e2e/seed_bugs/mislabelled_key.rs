//! Seed 004, "Uploading a ready certificate to the domain": the manual's sample merged
//! body holds a PKCS#8 key (`openssl genpkey` output) under an `RSA PRIVATE KEY`
//! label, after a `date=` line, followed by the certificate and its chain. certfleet
//! reads the key by its content: `inspect` shows the bundle with a notice naming the
//! mislabelled block, `convert` writes a key openssl accepts and that matches the
//! certificate (the notice on stderr), and `serve` serves a certdir whose `server.key`
//! is labelled that way, logging the notice.

use crate::support::openssl::{openssl, sha1_fingerprint};
use crate::support::pki::Ca;
use crate::support::run::{arg, assert_ok, certfleet, describe, stdout, stdout_json, TempDir};
use crate::support::serve::{served_sha1, ServeConfig};
use std::fs;
use std::path::Path;

const NAME: &str = "era.example.test";
const NOTICE_BLOCK: &str = "block 1 (RSA PRIVATE KEY)";

/// openssl's public key (PEM) of a key file, or of a certificate with `-x509`.
fn public_key(path: &Path, x509: bool) -> String {
    let out = if x509 {
        openssl(["x509", "-in", arg(path), "-noout", "-pubkey"])
    } else {
        openssl(["pkey", "-in", arg(path), "-pubout"])
    };
    assert!(out.status.success(), "openssl read {}", path.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An `openssl genpkey` RSA key (PKCS#8) relabelled as `RSA PRIVATE KEY`, and the
/// certificate with its chain signed for it; returns (key text, certificate file).
fn seed_key_and_certificate(dir: &Path) -> (String, std::path::PathBuf) {
    let pkcs8 = dir.join("genpkey.pem");
    let out = openssl([
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        arg(&pkcs8),
    ]);
    assert!(out.status.success(), "openssl genpkey failed");
    let text = fs::read_to_string(&pkcs8).unwrap();
    assert!(
        text.starts_with("-----BEGIN PRIVATE KEY-----"),
        "genpkey writes PKCS#8"
    );
    let relabelled = text
        .replace("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY")
        .replace("END PRIVATE KEY", "END RSA PRIVATE KEY");

    let csr = dir.join("era.csr");
    let subject = format!("/CN={NAME}");
    let san = format!("subjectAltName=DNS:{NAME}");
    let out = openssl([
        "req",
        "-new",
        "-key",
        arg(&pkcs8),
        "-subj",
        &subject,
        "-addext",
        &san,
        "-out",
        arg(&csr),
    ]);
    assert!(out.status.success(), "openssl req failed");
    let ca = Ca::new(dir, "Platform");
    let chain = dir.join("era.crt");
    assert_ok(&certfleet(&[
        "csr",
        "sign",
        "--ca",
        arg(ca.dir()),
        "--csr",
        arg(&csr),
        "--out",
        arg(&chain),
    ]));
    (relabelled, chain)
}

#[test]
fn uploading_ready_certificate_to_the_domain_with_pkcs8_under_rsa_label() {
    let tmp = TempDir::new();
    let (key_text, chain) = seed_key_and_certificate(tmp.path());
    let leaf = tmp.join("leaf.crt");
    let out = openssl(["x509", "-in", arg(&chain), "-out", arg(&leaf)]);
    assert!(out.status.success());
    // The manual's sample: a date line, the key, the certificate, the chain.
    let bundle = tmp.join("merged.pem");
    let merged = format!(
        "date=2023-11-29 {key_text}{}",
        fs::read_to_string(&chain).unwrap()
    );
    fs::write(&bundle, &merged).unwrap();

    // inspect: the bundle reads, the key matches, the notice names the block.
    let inspected = certfleet(&["inspect", arg(&bundle)]);
    assert_ok(&inspected);
    let text = stdout(&inspected);
    assert!(
        text.contains("key matches leaf: yes"),
        "{}",
        describe(&inspected)
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("notice: ") && l.contains(NOTICE_BLOCK) && l.contains("PKCS#8")),
        "{}",
        describe(&inspected)
    );
    let json = stdout_json(&certfleet(&["inspect", "--json", arg(&bundle)]));
    assert_eq!(json["key_matches_leaf"], true);
    assert!(
        json["notices"][0].as_str().unwrap().contains(NOTICE_BLOCK),
        "{json}"
    );

    // convert: a PKCS#1 key openssl checks and that matches the certificate.
    let pkcs1 = tmp.join("web.key");
    let converted = certfleet(&[
        "convert",
        arg(&bundle),
        "--to",
        "pkcs1",
        "--out",
        arg(&pkcs1),
    ]);
    assert_ok(&converted);
    assert!(
        String::from_utf8_lossy(&converted.stderr).contains(NOTICE_BLOCK),
        "{}",
        describe(&converted)
    );
    assert!(fs::read_to_string(&pkcs1)
        .unwrap()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let checked = openssl(["rsa", "-in", arg(&pkcs1), "-check", "-noout"]);
    assert!(
        checked.status.success(),
        "openssl rsa -check refused the converted key"
    );
    assert_eq!(public_key(&pkcs1, false), public_key(&leaf, true));
    let pem_out = tmp.join("web.pem");
    assert_ok(&certfleet(&[
        "convert",
        arg(&bundle),
        "--to",
        "merged",
        "--out",
        arg(&pem_out),
    ]));
    assert_eq!(public_key(&pem_out, false), public_key(&leaf, true));

    // serve: a certdir whose server.key is the mislabelled key.
    let certdir = tmp.join("cert");
    fs::create_dir_all(&certdir).unwrap();
    fs::write(certdir.join("server.key"), &key_text).unwrap();
    fs::copy(&chain, certdir.join("server.crt")).unwrap();
    let mut config = ServeConfig::new(tmp.path());
    let ws = config.listener("ws", Some(arg(&certdir)), None);
    let server = config.start();
    assert_eq!(
        served_sha1(ws, Some(NAME)),
        sha1_fingerprint(&leaf),
        "the certdir's certificate must be served\n{}",
        server.logs()
    );
    let logs = server.logs();
    assert!(
        logs.contains("server.key") && logs.contains(NOTICE_BLOCK),
        "the notice must name the file and block\n{logs}"
    );
}
