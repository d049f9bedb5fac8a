//! `certfleet convert` judged by openssl and keytool: every output format is read by
//! them, and what they write (DER, PKCS#1, SEC1, encrypted PKCS#8, PKCS#12) is read.
//! Keystore outputs and inputs are in [`keystores`].

mod keystores;

use crate::bundle::{labels, make_pki, openssl_ok, public_key};
use crate::support::run::{arg, assert_exit, assert_ok, certfleet, describe, TempDir};
use std::fs;
use std::path::{Path, PathBuf};

pub(crate) fn convert(input: &Path, to: &str, out: &Path, extra: &[&str]) {
    let mut args = vec!["convert", arg(input), "--to", to, "--out", arg(out)];
    args.extend_from_slice(extra);
    assert_ok(&certfleet(&args));
}

pub(crate) fn mode_of(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0o600
    }
}

#[test]
fn key_and_certificate_outputs_are_read_by_openssl() {
    for key_alg in ["ecdsa-p256", "rsa2048"] {
        let dir = TempDir::new();
        let pki = make_pki(&dir, key_alg);
        let merged = pki.file(".pem");
        let expected_pub = public_key(&pki.file(".key"), None);
        let out = |name: &str| dir.join(name);

        convert(&merged, "pem", &out("certs.pem"), &[]);
        assert_eq!(
            fs::read_to_string(out("certs.pem")).unwrap(),
            format!("{}{}", pki.text(".crt"), pki.text(".chain.crt"))
        );
        assert_eq!(mode_of(&out("certs.pem")), 0o644);

        convert(&merged, "der", &out("leaf.der"), &[]);
        let from_der = openssl_ok(&["x509", "-inform", "DER", "-in", arg(&out("leaf.der"))]);
        assert_eq!(String::from_utf8(from_der).unwrap(), pki.text(".crt"));

        convert(&merged, "pkcs8", &out("key.p8"), &[]);
        assert_eq!(
            labels(&fs::read_to_string(out("key.p8")).unwrap()),
            ["PRIVATE KEY"]
        );
        assert_eq!(public_key(&out("key.p8"), None), expected_pub);
        assert_eq!(mode_of(&out("key.p8")), 0o600);

        convert(&merged, "pkcs8", &out("key.enc"), &["--password", "pw 1"]);
        let text = fs::read_to_string(out("key.enc")).unwrap();
        assert_eq!(labels(&text), ["ENCRYPTED PRIVATE KEY"]);
        assert_eq!(public_key(&out("key.enc"), Some("pw 1")), expected_pub);
        let params = openssl_ok(&["asn1parse", "-in", arg(&out("key.enc"))]);
        let params = String::from_utf8(params).unwrap();
        for algorithm in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"] {
            assert!(params.contains(algorithm), "{algorithm} missing:\n{params}");
        }

        let (traditional, label, tool) = if key_alg.starts_with("rsa") {
            ("pkcs1", "RSA PRIVATE KEY", "rsa")
        } else {
            ("sec1", "EC PRIVATE KEY", "ec")
        };
        convert(&merged, traditional, &out("key.trad"), &[]);
        assert_eq!(
            labels(&fs::read_to_string(out("key.trad")).unwrap()),
            [label]
        );
        openssl_ok(&[tool, "-check", "-noout", "-in", arg(&out("key.trad"))]);
        assert_eq!(public_key(&out("key.trad"), None), expected_pub);
        assert_eq!(mode_of(&out("key.trad")), 0o600);
        let wrong = if traditional == "pkcs1" {
            "sec1"
        } else {
            "pkcs1"
        };
        let refused = certfleet(&[
            "convert",
            arg(&merged),
            "--to",
            wrong,
            "--out",
            arg(&out("x")),
        ]);
        assert_exit(&refused, 2);
        assert!(!out("x").exists());

        // A key alone converts to DER PKCS#8, encrypted with --password, and back.
        convert(
            &pki.file(".key"),
            "der",
            &out("key.der"),
            &["--password", "pw"],
        );
        openssl_ok(&[
            "pkcs8",
            "-inform",
            "DER",
            "-in",
            arg(&out("key.der")),
            "-passin",
            "pass:pw",
        ]);
        convert(
            &out("key.der"),
            "pkcs8",
            &out("again.p8"),
            &["--in-password", "pw"],
        );
        assert_eq!(public_key(&out("again.p8"), None), expected_pub);
        let key_only = certfleet(&[
            "convert",
            arg(&out("again.p8")),
            "--to",
            "merged",
            "--out",
            arg(&out("m")),
        ]);
        assert_exit(&key_only, 2);
        assert!(String::from_utf8_lossy(&key_only.stderr).contains("needs a certificate"));
    }
}

#[test]
fn openssl_made_der_and_encrypted_inputs_are_read() {
    let dir = TempDir::new();
    let pki = make_pki(&dir, "rsa2048");
    let key = arg(&pki.file(".key")).to_owned();
    let expected_pub = public_key(&pki.file(".key"), None);
    let write = |name: &str, bytes: Vec<u8>| -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        path
    };
    let inputs = [
        (
            write(
                "k.p8.der",
                openssl_ok(&[
                    "pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in", &key,
                ]),
            ),
            None,
        ),
        (
            write(
                "k.p1.der",
                openssl_ok(&["rsa", "-traditional", "-outform", "DER", "-in", &key]),
            ),
            None,
        ),
        (
            write(
                "k.p1.pem",
                openssl_ok(&["rsa", "-traditional", "-in", &key]),
            ),
            None,
        ),
        (
            write(
                "k.aes.der",
                openssl_ok(&[
                    "pkcs8",
                    "-topk8",
                    "-v2",
                    "aes-256-cbc",
                    "-outform",
                    "DER",
                    "-in",
                    &key,
                    "-passout",
                    "pass:pw",
                ]),
            ),
            Some("pw"),
        ),
        (
            write(
                "k.aes128.pem",
                openssl_ok(&[
                    "pkcs8",
                    "-topk8",
                    "-v2",
                    "aes-128-cbc",
                    "-in",
                    &key,
                    "-passout",
                    "pass:pw",
                ]),
            ),
            Some("pw"),
        ),
        (
            write(
                "k.des3.pem",
                openssl_ok(&[
                    "pkcs8", "-topk8", "-v2", "des3", "-in", &key, "-passout", "pass:pw",
                ]),
            ),
            Some("pw"),
        ),
        (
            write(
                "k.sha1.pem",
                openssl_ok(&[
                    "pkcs8",
                    "-topk8",
                    "-v2",
                    "aes-256-cbc",
                    "-v2prf",
                    "hmacWithSHA1",
                    "-in",
                    &key,
                    "-passout",
                    "pass:pw",
                ]),
            ),
            Some("pw"),
        ),
    ];
    for (input, password) in inputs {
        let out = input.with_extension("out.pem");
        let mut extra = vec![];
        if let Some(password) = password {
            extra.extend(["--in-password", password]);
        }
        convert(&input, "pkcs8", &out, &extra);
        assert_eq!(public_key(&out, None), expected_pub, "{}", input.display());
    }

    // A wrong password and PBES1 are refused clearly.
    let aes = dir.join("k.aes.der");
    let refused = certfleet(&[
        "convert",
        arg(&aes),
        "--to",
        "pkcs8",
        "--in-password",
        "nope",
        "--out",
        arg(&dir.join("o")),
    ]);
    assert_exit(&refused, 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wrong password"));
    let pbes1 = write(
        "k.pbes1.pem",
        openssl_ok(&[
            "pkcs8",
            "-topk8",
            "-v1",
            "PBE-SHA1-3DES",
            "-in",
            &key,
            "-passout",
            "pass:pw",
        ]),
    );
    let refused = certfleet(&[
        "convert",
        arg(&pbes1),
        "--to",
        "pkcs8",
        "--in-password",
        "pw",
        "--out",
        arg(&dir.join("o")),
    ]);
    assert_exit(&refused, 2);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("PBES1"),
        "{}",
        describe(&refused)
    );
    assert!(!dir.join("o").exists());

    // DER certificate in, PEM out; CSR PEM in, DER out and back.
    let der = write(
        "leaf.der",
        openssl_ok(&["x509", "-outform", "DER", "-in", arg(&pki.file(".crt"))]),
    );
    convert(&der, "pem", &dir.join("leaf.pem"), &[]);
    assert_eq!(
        fs::read_to_string(dir.join("leaf.pem")).unwrap(),
        pki.text(".crt")
    );
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "c.example.test",
        "--out",
        arg(&dir.join("c")),
    ]));
    convert(&dir.join("c.csr"), "der", &dir.join("c.der"), &[]);
    openssl_ok(&[
        "req",
        "-verify",
        "-noout",
        "-inform",
        "DER",
        "-in",
        arg(&dir.join("c.der")),
    ]);
    convert(&dir.join("c.der"), "pem", &dir.join("c2.csr"), &[]);
    assert_eq!(
        fs::read(dir.join("c2.csr")).unwrap(),
        fs::read(dir.join("c.csr")).unwrap()
    );
}
