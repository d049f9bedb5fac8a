//! `ca init` and `cert issue` judged by openssl and pkilint: every key algorithm, every
//! profile, and the documented order of the chain and merged files.

use crate::support::openssl::{openssl, openssl_verify, sha1_fingerprint, sha256_fingerprint};
use crate::support::pkilint::{pkilint_cert, pkilint_chain};
use crate::support::run::{arg, assert_ok, certfleet, stdout_json, TempDir};
use std::fs;
use std::path::Path;

const ALGORITHMS: [&str; 6] = [
    "ecdsa-p256",
    "ecdsa-p384",
    "ed25519",
    "rsa2048",
    "rsa3072",
    "rsa4096",
];

fn pem_blocks(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    text.split("-----END ")
        .filter_map(|chunk| chunk.split("-----BEGIN ").nth(1))
        .map(|rest| rest.split("-----").next().unwrap().to_owned())
        .collect()
}

fn subject_of(cert_pem: &str, dir: &TempDir, name: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, cert_pem).unwrap();
    let out = openssl([
        "x509",
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253",
        "-in",
        arg(&path),
    ]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn split_certs(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    text.split_inclusive("-----END CERTIFICATE-----\n")
        .filter(|c| c.contains("BEGIN CERTIFICATE"))
        .map(|c| c[c.find("-----BEGIN CERTIFICATE-----").unwrap()..].to_owned())
        .collect()
}

#[test]
fn openssl_verifies_every_chain_for_every_key_algorithm() {
    for algorithm in ALGORITHMS {
        let dir = TempDir::new();
        let ca = dir.join("ca");
        assert_ok(&certfleet(&[
            "ca",
            "init",
            "--out",
            arg(&ca),
            "--cn",
            &format!("Root {algorithm}"),
            "--intermediate-cn",
            &format!("Issuing {algorithm}"),
            "--key",
            algorithm,
        ]));
        let leaf = dir.join("web");
        assert_ok(&certfleet(&[
            "cert",
            "issue",
            "--ca",
            arg(&ca),
            "--cn",
            "web.example.test",
            "--san",
            "www.example.test",
            "--ip",
            "10.0.0.5",
            "--key",
            algorithm,
            "--out",
            arg(&leaf),
        ]));
        openssl_verify(
            &ca.join("root.crt"),
            Some(&ca.join("intermediate.crt")),
            &dir.join("web.crt"),
        )
        .unwrap_or_else(|e| panic!("{algorithm}: openssl refused the chain: {e}"));
        // The chain file, given as untrusted, must carry the path: intermediate then root.
        openssl_verify(
            &ca.join("root.crt"),
            Some(&dir.join("web.chain.crt")),
            &dir.join("web.crt"),
        )
        .unwrap_or_else(|e| panic!("{algorithm}: chain file: {e}"));
        let chain = split_certs(&dir.join("web.chain.crt"));
        assert_eq!(
            chain.len(),
            2,
            "{algorithm}: chain file holds intermediate and root"
        );
        assert_eq!(
            subject_of(&chain[0], &dir, "c0.pem"),
            format!("subject=CN=Issuing {algorithm}")
        );
        assert_eq!(
            subject_of(&chain[1], &dir, "c1.pem"),
            format!("subject=CN=Root {algorithm}")
        );
        assert_eq!(
            pem_blocks(&dir.join("web.pem")),
            ["PRIVATE KEY", "CERTIFICATE", "CERTIFICATE", "CERTIFICATE"],
            "{algorithm}: merged file is key, leaf, chain"
        );
        let merged = split_certs(&dir.join("web.pem"));
        assert_eq!(merged[0], fs::read_to_string(dir.join("web.crt")).unwrap());
        assert_eq!(merged[1..], chain[..]);
        // openssl reads the key and it matches the leaf.
        let key_pub = openssl(["pkey", "-in", arg(&dir.join("web.key")), "-pubout"]);
        let cert_pub = openssl([
            "x509",
            "-in",
            arg(&dir.join("web.crt")),
            "-noout",
            "-pubkey",
        ]);
        assert!(
            key_pub.status.success(),
            "{algorithm}: openssl cannot read the key"
        );
        assert_eq!(
            key_pub.stdout, cert_pub.stdout,
            "{algorithm}: key and leaf differ"
        );
    }
}

#[test]
fn rsa1024_needs_allow_weak_and_then_verifies() {
    let dir = TempDir::new();
    let refused = certfleet(&[
        "cert",
        "issue",
        "--self-signed",
        "--cn",
        "old.example.test",
        "--key",
        "rsa1024",
        "--out",
        arg(&dir.join("old")),
    ]);
    crate::support::run::assert_exit(&refused, 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-weak"));
    assert!(
        !dir.join("old.key").exists(),
        "nothing is written when refused"
    );
    let ca = dir.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "Legacy Root",
        "--key",
        "rsa1024",
        "--allow-weak",
    ]));
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--ca",
        arg(&ca),
        "--cn",
        "old.example.test",
        "--key",
        "rsa1024",
        "--allow-weak",
        "--out",
        arg(&dir.join("old")),
    ]));
    let out = openssl([
        "verify",
        "-auth_level",
        "0",
        "-CAfile",
        arg(&ca.join("root.crt")),
        arg(&dir.join("old.crt")),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = stdout_json(&certfleet(&[
        "inspect",
        arg(&dir.join("old.crt")),
        "--json",
    ]));
    assert_eq!(json["certificates"][0]["key_bits"], 1024);
}

#[test]
fn pkilint_finds_nothing_in_any_profile() {
    for algorithm in ["ecdsa-p256", "rsa2048", "ed25519", "ecdsa-p384"] {
        let dir = TempDir::new();
        let ca = dir.join("ca");
        assert_ok(&certfleet(&[
            "ca",
            "init",
            "--out",
            arg(&ca),
            "--cn",
            "Lint Root",
            "--intermediate-cn",
            "Lint Issuing",
            "--key",
            algorithm,
        ]));
        for usage in ["server", "client", "both"] {
            assert_ok(&certfleet(&[
                "cert",
                "issue",
                "--ca",
                arg(&ca),
                "--cn",
                "svc.example.test",
                "--ip",
                "10.1.2.3",
                "--usage",
                usage,
                "--key",
                algorithm,
                "--out",
                arg(&dir.join(usage)),
            ]));
        }
        assert_ok(&certfleet(&[
            "cert",
            "issue",
            "--self-signed",
            "--cn",
            "self.example.test",
            "--key",
            algorithm,
            "--out",
            arg(&dir.join("self")),
        ]));
        let root = ca.join("root.crt");
        let intermediate = ca.join("intermediate.crt");
        let mut judged = vec![
            (root.clone(), pkilint_cert(&root)),
            (intermediate.clone(), pkilint_cert(&intermediate)),
            (intermediate.clone(), pkilint_chain(&root, &intermediate)),
            (dir.join("self.crt"), pkilint_cert(&dir.join("self.crt"))),
            (
                dir.join("self.crt"),
                pkilint_chain(&dir.join("self.crt"), &dir.join("self.crt")),
            ),
        ];
        for usage in ["server", "client", "both"] {
            let leaf = dir.join(&format!("{usage}.crt"));
            judged.push((leaf.clone(), pkilint_cert(&leaf)));
            judged.push((leaf.clone(), pkilint_chain(&intermediate, &leaf)));
        }
        for (file, findings) in judged {
            assert!(
                findings.is_empty(),
                "{algorithm}: pkilint on {}: {findings:#?}",
                file.display()
            );
        }
    }
}

#[test]
fn inspect_thumbprints_equal_openssls_and_every_field_is_present() {
    let dir = TempDir::new();
    let ca = dir.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "Inspect Root",
        "--intermediate-cn",
        "Inspect Issuing",
    ]));
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--ca",
        arg(&ca),
        "--cn",
        "web.example.test",
        "--ip",
        "10.0.0.9",
        "--usage",
        "both",
        "--out",
        arg(&dir.join("web")),
    ]));
    let json = stdout_json(&certfleet(&[
        "inspect",
        arg(&dir.join("web.pem")),
        "--json",
    ]));
    assert_eq!(json["kind"], "bundle");
    let certs = json["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 3, "leaf, intermediate, root");
    for field in [
        "subject",
        "issuer",
        "serial",
        "not_before",
        "not_after",
        "days_remaining",
        "sans",
        "key_usage",
        "extended_key_usage",
        "critical_extensions",
        "is_ca",
        "key_type",
        "key_bits",
        "signature_algorithm",
        "sha1_thumbprint",
        "sha256_fingerprint",
    ] {
        for cert in certs {
            assert!(cert.get(field).is_some(), "field {field} missing: {cert}");
        }
    }
    let leaf = &certs[0];
    assert_eq!(
        leaf["sha1_thumbprint"],
        sha1_fingerprint(&dir.join("web.crt"))
    );
    assert_eq!(
        leaf["sha256_fingerprint"],
        sha256_fingerprint(&dir.join("web.crt"))
    );
    assert_eq!(
        certs[2]["sha1_thumbprint"],
        sha1_fingerprint(&ca.join("root.crt"))
    );
    assert_eq!(
        leaf["sans"],
        serde_json::json!(["DNS:web.example.test", "IP:10.0.0.9"])
    );
    assert_eq!(
        leaf["extended_key_usage"],
        serde_json::json!(["serverAuth", "clientAuth"])
    );
    assert_eq!(leaf["is_ca"], false);
    assert_eq!(certs[1]["is_ca"], true);
    let serial = openssl([
        "x509",
        "-noout",
        "-serial",
        "-in",
        arg(&dir.join("web.crt")),
    ]);
    let serial = String::from_utf8_lossy(&serial.stdout)
        .trim()
        .trim_start_matches("serial=")
        .trim_start_matches('0')
        .to_owned();
    assert_eq!(leaf["serial"], serial);
    // 128-bit random serials: at most 16 significant bytes, and more than 8.
    assert!((17..=32).contains(&serial.len()), "serial {serial}");
    let mut critical: Vec<String> =
        serde_json::from_value(leaf["critical_extensions"].clone()).unwrap();
    critical.sort();
    assert_eq!(critical, ["basicConstraints", "keyUsage"]);
}

#[test]
fn key_files_are_private_and_ca_directories_are_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new();
    let ca = dir.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "Mode Root",
        "--intermediate-cn",
        "Mode Issuing",
    ]));
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--ca",
        arg(&ca),
        "--cn",
        "m.example.test",
        "--out",
        arg(&dir.join("m")),
    ]));
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "n.example.test",
        "--out",
        arg(&dir.join("n")),
    ]));
    for key in [
        ca.join("root.key"),
        ca.join("intermediate.key"),
        dir.join("m.key"),
        dir.join("m.pem"),
        dir.join("n.key"),
    ] {
        let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
    }
    let before = fs::read(ca.join("root.key")).unwrap();
    let again = certfleet(&["ca", "init", "--out", arg(&ca), "--cn", "Other Root"]);
    crate::support::run::assert_exit(&again, 2);
    assert_eq!(fs::read(ca.join("root.key")).unwrap(), before);
}
