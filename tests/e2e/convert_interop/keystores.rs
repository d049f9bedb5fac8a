//! `convert` to and from PKCS#12 and JKS, judged by keytool and openssl.

use super::{convert, mode_of};
use crate::bundle::{make_pki, openssl_ok, Pki};
use crate::support::run::{arg, assert_exit, certfleet, describe, TempDir};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

fn keytool_list(store: &Path, password: &str) -> String {
    let out = Command::new("keytool")
        .args([
            "-list",
            "-v",
            "-keystore",
            arg(store),
            "-storepass",
            password,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("failed to start keytool (run scripts/install-test-deps)");
    assert!(
        out.status.success(),
        "keytool -list failed\n{}",
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn keystores_in_and_out() {
    let dir = TempDir::new();
    let pki: Pki = make_pki(&dir, "ecdsa-p256");
    let merged = pki.file(".pem");

    convert(
        &merged,
        "pkcs12",
        &dir.join("web.p12"),
        &["--password", "changeit", "--alias", "web"],
    );
    assert_eq!(mode_of(&dir.join("web.p12")), 0o600);
    let listed = keytool_list(&dir.join("web.p12"), "changeit");
    assert!(
        listed.contains("Alias name: web") && listed.contains("PrivateKeyEntry"),
        "{listed}"
    );
    assert!(listed.contains("Certificate chain length: 3"), "{listed}");

    convert(
        &merged,
        "pkcs12",
        &dir.join("legacy.p12"),
        &["--password", "changeit", "--legacy"],
    );
    openssl_ok(&[
        "pkcs12",
        "-legacy",
        "-in",
        arg(&dir.join("legacy.p12")),
        "-passin",
        "pass:changeit",
        "-noout",
    ]);

    convert(
        &merged,
        "jks",
        &dir.join("web.jks"),
        &["--password", "changeit"],
    );
    let listed = keytool_list(&dir.join("web.jks"), "changeit");
    assert!(
        listed.contains("Alias name: mykey") && listed.contains("PrivateKeyEntry"),
        "{listed}"
    );

    convert(
        &pki.file(".chain.crt"),
        "jks-trust",
        &dir.join("trust.jks"),
        &["--password", "changeit"],
    );
    let listed = keytool_list(&dir.join("trust.jks"), "changeit");
    assert_eq!(listed.matches("trustedCertEntry").count(), 2, "{listed}");
    assert!(listed.contains("Alias name: bundle root"), "{listed}");
    assert_eq!(mode_of(&dir.join("trust.jks")), 0o644);

    convert(
        &pki.file(".chain.crt"),
        "pkcs12-trust",
        &dir.join("trust.p12"),
        &["--password", "changeit", "--alias", "ca"],
    );
    let listed = keytool_list(&dir.join("trust.p12"), "changeit");
    assert_eq!(listed.matches("trustedCertEntry").count(), 2, "{listed}");

    // Back out: our PKCS#12 and JKS, and an openssl-made PKCS#12, to a merged bundle.
    let openssl_p12 = dir.join("openssl.p12");
    openssl_ok(&[
        "pkcs12",
        "-export",
        "-inkey",
        arg(&pki.file(".key")),
        "-in",
        arg(&pki.file(".crt")),
        "-certfile",
        arg(&pki.file(".chain.crt")),
        "-passout",
        "pass:changeit",
        "-out",
        arg(&openssl_p12),
    ]);
    for store in [dir.join("web.p12"), dir.join("web.jks"), openssl_p12] {
        let out = store.with_extension("back.pem");
        convert(&store, "merged", &out, &["--in-password", "changeit"]);
        let text = fs::read_to_string(&out).unwrap();
        assert_eq!(
            &text[text.find("-----BEGIN CERTIFICATE").unwrap()..],
            format!("{}{}", pki.text(".crt"), pki.text(".chain.crt")),
            "{}",
            store.display()
        );
        let wrong = certfleet(&[
            "convert",
            arg(&store),
            "--to",
            "merged",
            "--in-password",
            "nope",
            "--out",
            arg(&dir.join("w")),
        ]);
        assert_exit(&wrong, 2);
        assert!(!dir.join("w").exists());
    }
    let needs = certfleet(&[
        "convert",
        arg(&merged),
        "--to",
        "jks",
        "--out",
        arg(&dir.join("w")),
    ]);
    assert_exit(&needs, 2);
    assert!(String::from_utf8_lossy(&needs.stderr).contains("--password"));
}
