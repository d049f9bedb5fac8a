//! `certfleet lint --peer KIND`: the contact-center suite's manual says "UCCX only
//! supports certificate key lengths of 1024 and 2048 bits" and that from 11.6 on ECDSA
//! certificates are removed from UCCX, SM/CCP, CUIC and Finesse. Certificates made the
//! way administrators make them, with openssl and keytool, are judged against that: an
//! ECDSA or RSA 4096 certificate is an error naming the key and the peer, an RSA 2048
//! one passes.

use crate::support::openssl::openssl;
use crate::support::run::{arg, certfleet, describe, stdout_json, TempDir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A self-signed server certificate from `openssl req -x509` with `newkey` (`rsa:2048`,
/// `ec`), a leaf as a CA-signed one would be (CA:false, serverAuth, the CN in the SANs).
fn openssl_cert(dir: &TempDir, name: &str, newkey: &[&str]) -> PathBuf {
    let (cert, key) = (
        dir.join(&format!("{name}.crt")),
        dir.join(&format!("{name}.key")),
    );
    let mut args = vec!["req", "-x509", "-nodes", "-days", "365"];
    args.extend_from_slice(newkey);
    args.extend_from_slice(&[
        "-keyout",
        arg(&key),
        "-out",
        arg(&cert),
        "-subj",
        "/CN=ccx-pub.cc.corp.example",
        "-addext",
        "subjectAltName=DNS:ccx-pub.cc.corp.example",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "extendedKeyUsage=serverAuth",
    ]);
    let out = openssl(&args);
    assert!(out.status.success(), "{}", describe(&out));
    cert
}

/// `keytool -genkeypair` with `keyalg` in a JKS, then its certificate exported as PEM,
/// as the suite's certificate pages take it.
fn keytool_cert(dir: &TempDir, name: &str, keyalg: &[&str]) -> PathBuf {
    let store = dir.join(&format!("{name}.jks"));
    let cert = dir.join(&format!("{name}.pem"));
    let keytool = |args: &[&str]| {
        let out = Command::new("keytool").args(args).output().unwrap();
        assert!(out.status.success(), "keytool {args:?}: {}", describe(&out));
    };
    let mut args = vec!["-genkeypair", "-alias", "tomcat"];
    args.extend_from_slice(keyalg);
    args.extend_from_slice(&[
        "-dname",
        "CN=ccx-pub.cc.corp.example, OU=Test, O=Test Ltd, C=US",
        "-ext",
        "SAN=dns:ccx-pub.cc.corp.example",
        "-ext",
        "EKU=serverAuth",
        "-validity",
        "365",
        "-keystore",
        arg(&store),
        "-storepass",
        "changeit",
    ]);
    keytool(&args);
    keytool(&[
        "-exportcert",
        "-rfc",
        "-alias",
        "tomcat",
        "-keystore",
        arg(&store),
        "-storepass",
        "changeit",
        "-file",
        arg(&cert),
    ]);
    cert
}

/// `lint FILE --peer uccx --json`: exit status and the peer-key-refused finding's
/// message, if any.
fn lint_for_uccx(cert: &Path) -> (Option<i32>, Option<String>) {
    let out = certfleet(&["lint", arg(cert), "--peer", "uccx", "--json"]);
    let report = stdout_json(&out);
    let refused = report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array: {}", describe(&out)))
        .iter()
        .find(|f| f["code"] == "peer-key-refused")
        .map(|f| {
            assert_eq!(f["severity"], "error", "{f}");
            assert!(
                f["hint"].as_str().unwrap_or_default().contains("rsa2048"),
                "{f}"
            );
            f["message"].as_str().unwrap_or_default().to_owned()
        });
    (out.status.code(), refused)
}

#[test]
fn uccx_only_supports_key_lengths_of_1024_and_2048_bits_and_no_ecdsa_since_11_6() {
    let dir = TempDir::new();
    let refused = [
        (
            openssl_cert(
                &dir,
                "ec",
                &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            ),
            "an ECDSA key on P-256",
        ),
        (
            openssl_cert(&dir, "rsa4096", &["-newkey", "rsa:4096"]),
            "a 4096-bit RSA key",
        ),
        (
            keytool_cert(&dir, "kt-ec", &["-keyalg", "EC", "-groupname", "secp384r1"]),
            "an ECDSA key on P-384",
        ),
        (
            keytool_cert(&dir, "kt-rsa3072", &["-keyalg", "RSA", "-keysize", "3072"]),
            "a 3072-bit RSA key",
        ),
    ];
    for (cert, key) in &refused {
        let (code, message) = lint_for_uccx(cert);
        let message =
            message.unwrap_or_else(|| panic!("{}: no peer-key-refused finding", cert.display()));
        assert_eq!(code, Some(1), "{}", cert.display());
        assert!(
            message.contains(key)
                && message.contains("uccx")
                && message.contains("rsa2048 or rsa1024"),
            "{}: {message}",
            cert.display()
        );
    }
    for cert in [
        openssl_cert(&dir, "rsa2048", &["-newkey", "rsa:2048"]),
        keytool_cert(&dir, "kt-rsa2048", &["-keyalg", "RSA", "-keysize", "2048"]),
    ] {
        let (code, message) = lint_for_uccx(&cert);
        assert_eq!(message, None, "{}", cert.display());
        assert_eq!(code, Some(0), "{}", cert.display());
    }
    // Without --peer the ECDSA certificate is fine.
    let out = certfleet(&["lint", arg(&refused[0].0)]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // The text output names the finding and its fix.
    let out = certfleet(&["lint", arg(&refused[0].0), "--peer", "Finesse"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        text.contains("error [peer-key-refused]") && text.contains("a Finesse peer refuses"),
        "{text}"
    );
    assert!(text.contains("fix: Reissue it"), "{text}");
}

#[test]
fn a_kind_without_key_constraints_is_bad_input_listing_the_known_kinds() {
    let dir = TempDir::new();
    let cert = openssl_cert(&dir, "rsa2048", &["-newkey", "rsa:2048"]);
    let out = certfleet(&["lint", arg(&cert), "--peer", "nginx"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--peer nginx") && stderr.contains("uccx, finesse, cuic"),
        "{stderr}"
    );
}
