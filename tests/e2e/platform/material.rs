//! Getting each service's key, certificate, chain and trusted certificates back out of
//! what certfleet wrote, with keytool and openssl only: a keystore that keytool or openssl
//! cannot open with the password certfleet reported fails the test here.

use super::model::{suffixed, Output};
use crate::support::openssl::openssl;
use crate::support::run::{arg, describe};
use base64::Engine;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output as ProcOutput, Stdio};

/// The PEM blocks of `text`: (label, the whole block from BEGIN to END).
pub(crate) fn pem_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after[..label_end].to_owned();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else {
            break;
        };
        let stop = start + end + end_marker.len();
        blocks.push((label, format!("{}\n", &rest[start..stop])));
        rest = &rest[stop..];
    }
    blocks
}

/// The certificate blocks of `text`.
pub(crate) fn cert_blocks(text: &str) -> Vec<String> {
    pem_blocks(text)
        .into_iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .map(|(_, block)| block)
        .collect()
}

/// SHA-1 of the DER inside one PEM block: 40 upper-case hex digits.
pub(crate) fn block_sha1(block: &str) -> String {
    let body: String = block
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap_or_else(|e| panic!("not base64 inside a PEM block ({e}):\n{block}"));
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

/// A service's own TLS identity as PEM files a peer tool can use.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// The leaf alone.
    pub leaf: PathBuf,
    /// The certificates after the leaf (possibly none: then `None`).
    pub chain: Option<PathBuf>,
    /// The private key.
    pub key: PathBuf,
    /// The leaf's SHA-1 thumbprint (from openssl).
    pub sha1: String,
}

/// Runs keytool with `args` (JVM start-up kept short), stdin closed.
pub(crate) fn keytool(args: &[&str]) -> ProcOutput {
    Command::new("keytool")
        .args([
            "-J-XX:TieredStopAtLevel=1",
            "-J-XX:CICompilerCount=1",
            "-J-XX:+UseSerialGC",
            "-J-XX:-UsePerfData",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("failed to start keytool (run scripts/install-test-deps)")
}

fn openssl_ok(args: &[&str]) -> String {
    let out = openssl(args);
    assert!(
        out.status.success(),
        "openssl {}\n{}",
        args.join(" "),
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Splits a PEM text with one key and one or more certificates (leaf first) into files
/// under `work`.
fn identity_from_text(certs: &str, key: &str, work: &Path) -> Identity {
    std::fs::create_dir_all(work).unwrap();
    let blocks = cert_blocks(certs);
    assert!(!blocks.is_empty(), "no certificate in:\n{certs}");
    let keys: Vec<_> = pem_blocks(key)
        .into_iter()
        .filter(|(label, _)| label.ends_with("PRIVATE KEY"))
        .collect();
    assert_eq!(keys.len(), 1, "expected exactly one private key");
    let leaf = work.join("leaf.pem");
    std::fs::write(&leaf, &blocks[0]).unwrap();
    let chain = (blocks.len() > 1).then(|| {
        let path = work.join("chain.pem");
        std::fs::write(&path, blocks[1..].concat()).unwrap();
        path
    });
    let key_path = work.join("key.pem");
    std::fs::write(&key_path, &keys[0].1).unwrap();
    let sha1 = crate::support::openssl::sha1_fingerprint(&leaf);
    Identity {
        leaf,
        chain,
        key: key_path,
        sha1,
    }
}

/// The certificate blocks `openssl pkcs12` printed whose bag attributes do not mark them
/// as Java trusted certificates (attribute 2.16.840.1.113894.746875.1.1, which openssl
/// names "Trusted key usage (Oracle)").
fn untrusted_bags(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find("-----END CERTIFICATE-----") {
        let stop = end + "-----END CERTIFICATE-----".len();
        let bag = &rest[..stop];
        let trusted = bag.contains("2.16.840.1.113894.746875.1.1")
            || bag.contains("Trusted key usage (Oracle)");
        if !trusted {
            blocks.extend(cert_blocks(bag));
        }
        rest = &rest[stop..];
    }
    blocks
}

/// The identity in a PKCS#12 file, read by `openssl pkcs12` with `password`.
fn identity_from_pkcs12(path: &Path, password: &str, legacy: bool, work: &Path) -> Identity {
    let pass = format!("pass:{password}");
    let mut base = vec!["pkcs12", "-in", arg(path), "-passin", pass.as_str()];
    if legacy {
        base.push("-legacy");
    }
    let run = |extra: &[&str]| {
        let mut args = base.clone();
        args.extend_from_slice(extra);
        openssl_ok(&args)
    };
    let leaf = run(&["-nokeys", "-clcerts"]);
    let chain = run(&["-nokeys", "-cacerts"]);
    let key = run(&["-nocerts", "-nodes"]);
    // The leaf (the certificate with the key's local key id) first, then the rest of its
    // chain: not the trusted entries a keystore with `include_trust` holds besides.
    let mut certs = cert_blocks(&leaf).concat();
    certs.push_str(&untrusted_bags(&chain).concat());
    identity_from_text(&certs, &key, work)
}

/// The identity in one key-bearing output at `placed`, opened with `password`.
pub(crate) fn identity(
    out: &Output,
    placed: &Path,
    password: Option<&str>,
    work: &Path,
) -> Identity {
    std::fs::create_dir_all(work).unwrap();
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
    };
    match out.format.as_str() {
        "pem-pair" => identity_from_text(
            &read(&suffixed(placed, ".crt")),
            &read(&suffixed(placed, ".key")),
            work,
        ),
        "merged" => {
            let text = read(placed);
            identity_from_text(&text, &text, work)
        }
        "pkcs12" => identity_from_pkcs12(
            placed,
            password.expect("a pkcs12 output has a password"),
            out.legacy,
            work,
        ),
        "jks" => {
            // keytool converts the key entry to PKCS#12, which openssl then reads.
            let password = password.expect("a jks output has a password");
            let alias = out.alias.as_deref().expect("a jks output has an alias");
            let p12 = work.join("from-jks.p12");
            let converted = keytool(&[
                "-importkeystore",
                "-noprompt",
                "-srckeystore",
                arg(placed),
                "-srcstoretype",
                "JKS",
                "-srcstorepass",
                password,
                "-srcalias",
                alias,
                "-destkeystore",
                arg(&p12),
                "-deststoretype",
                "PKCS12",
                "-deststorepass",
                password,
            ]);
            assert!(
                converted.status.success(),
                "keytool could not convert {} with its password\n{}",
                placed.display(),
                describe(&converted)
            );
            identity_from_pkcs12(&p12, password, false, work)
        }
        other => panic!("{other} holds no key"),
    }
}

/// The certificates of one trust output as a PEM file under `work` (keytool lists JKS,
/// openssl reads PKCS#12), and their thumbprints.
pub(crate) fn trust(
    out: &Output,
    placed: &Path,
    password: Option<&str>,
    work: &Path,
) -> (PathBuf, BTreeSet<String>) {
    std::fs::create_dir_all(work).unwrap();
    let pem = match out.format.as_str() {
        "pkcs12" | "jks" if out.include_trust => {
            trusted_entries(placed, password.expect("a keystore has a password"))
        }
        "pem-trust" => std::fs::read_to_string(placed)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", placed.display())),
        "pkcs12-trust" => {
            let pass = format!("pass:{}", password.expect("a keystore has a password"));
            let mut args = vec![
                "pkcs12",
                "-in",
                arg(placed),
                "-nokeys",
                "-passin",
                pass.as_str(),
            ];
            if out.legacy {
                args.push("-legacy");
            }
            openssl_ok(&args)
        }
        "jks-trust" => {
            let listed = keytool(&[
                "-list",
                "-rfc",
                "-keystore",
                arg(placed),
                "-storepass",
                password.expect("a keystore has a password"),
            ]);
            assert!(
                listed.status.success(),
                "keytool -list -rfc {}\n{}",
                placed.display(),
                describe(&listed)
            );
            String::from_utf8_lossy(&listed.stdout).into_owned()
        }
        other => panic!("{other} is not a trust output"),
    };
    let blocks = cert_blocks(&pem);
    let file = work.join("trust.pem");
    std::fs::write(&file, blocks.concat()).unwrap();
    let sha1s = blocks.iter().map(|b| block_sha1(b)).collect();
    (file, sha1s)
}

/// The certificates of a keystore's trustedCertEntry entries only (not its key entry's
/// chain), as keytool lists them.
fn trusted_entries(store: &Path, password: &str) -> String {
    let listed = keytool(&[
        "-list",
        "-rfc",
        "-keystore",
        arg(store),
        "-storepass",
        password,
    ]);
    assert!(
        listed.status.success(),
        "keytool -list -rfc {}\n{}",
        store.display(),
        describe(&listed)
    );
    String::from_utf8_lossy(&listed.stdout)
        .split("Alias name: ")
        .skip(1)
        .filter(|entry| entry.contains("Entry type: trustedCertEntry"))
        .collect()
}

/// `keytool -list -v` of a keystore or truststore with `password`: panics unless keytool
/// opens it; returns the listing.
pub(crate) fn keytool_list(store: &Path, password: &str) -> String {
    let out = keytool(&[
        "-list",
        "-v",
        "-keystore",
        arg(store),
        "-storepass",
        password,
    ]);
    assert!(
        out.status.success(),
        "keytool -list -v -keystore {} failed with the reported password\n{}",
        store.display(),
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (alias, entry type) of every entry keytool lists.
pub(crate) fn keytool_entries(listing: &str) -> Vec<(String, String)> {
    listing
        .split("Alias name: ")
        .skip(1)
        .map(|block| {
            let alias = block.lines().next().unwrap_or_default().trim().to_owned();
            let kind = block
                .lines()
                .find_map(|l| l.strip_prefix("Entry type:"))
                .unwrap_or_default()
                .trim()
                .to_owned();
            (alias, kind)
        })
        .collect()
}
