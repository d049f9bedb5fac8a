//! Seed 001, "Create a self-signed root authority, use it to sign the server
//! certificate": with the root's key in the working directory, a `cert issue` or
//! `csr new` whose output prefix lands on `root.key` must refuse, name the file and
//! say to pass --force, and leave every file of its output set untouched. With
//! --force the key is replaced, and openssl confirms the new files belong together.

use crate::support::openssl::{openssl, openssl_verify};
use crate::support::run::{arg, assert_ok, certfleet, describe, TempDir};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

/// Every file in `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_file())
        .map(|entry| {
            let path = entry.path();
            let modified = entry.metadata().unwrap().modified().unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                (fs::read(&path).unwrap(), modified),
            )
        })
        .collect()
}

/// Asserts the command failed, naming `file` and telling to pass --force.
fn assert_refused(out: &std::process::Output, file: &Path) {
    assert_ne!(out.status.code(), Some(0), "{}", describe(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(arg(file)) && stderr.contains("--force"),
        "the refusal must name {} and say to pass --force\n{}",
        file.display(),
        describe(out)
    );
}

/// The public key of a key, certificate or CSR file, as openssl prints it.
fn public_key(kind: &str, path: &Path) -> String {
    let out = match kind {
        "key" => openssl(["pkey", "-in", arg(path), "-pubout"]),
        "x509" => openssl(["x509", "-in", arg(path), "-noout", "-pubkey"]),
        _ => openssl(["req", "-in", arg(path), "-noout", "-pubkey"]),
    };
    assert!(out.status.success(), "openssl {kind} {}", path.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn create_root_authority_then_sign_server_keeps_root_key() {
    let tmp = TempDir::new();
    let ca = tmp.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "TestRoot",
    ]));
    let issue = |out: &Path, extra: &[&str]| {
        let base = [
            "cert",
            "issue",
            "--ca",
            arg(&ca),
            "--cn",
            "testserver.example.test",
            "--out",
            arg(out),
        ];
        certfleet(&[&base[..], extra].concat())
    };
    let before = snapshot(&ca);
    let root_key = ca.join("root.key");
    let prefix = ca.join("root");

    let issued = issue(&prefix, &[]);
    assert_refused(&issued, &root_key);
    assert_eq!(snapshot(&ca), before, "cert issue touched the CA directory");

    let requested = certfleet(&[
        "csr",
        "new",
        "--cn",
        "testserver.example.test",
        "--out",
        arg(&prefix),
    ]);
    assert_refused(&requested, &root_key);
    assert_eq!(snapshot(&ca), before, "csr new touched the CA directory");

    // The root key still signs: a leaf issued elsewhere verifies against root.crt.
    let web = tmp.join("web");
    assert_ok(&issue(&web, &[]));
    openssl_verify(&ca.join("root.crt"), None, &tmp.join("web.crt")).unwrap();

    // A second issue onto web.key is refused too; --force replaces the key.
    let again = issue(&web, &[]);
    assert_refused(&again, &tmp.join("web.key"));
    let old_key = public_key("key", &tmp.join("web.key"));
    assert_ok(&issue(&web, &["--force"]));
    let new_key = public_key("key", &tmp.join("web.key"));
    assert_ne!(old_key, new_key, "--force must write the new key");
    assert_eq!(new_key, public_key("x509", &tmp.join("web.crt")));

    // csr new: refused onto an existing key, replaced with --force.
    let node = tmp.join("node");
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "node.example.test",
        "--out",
        arg(&node),
    ]));
    let kept = snapshot(tmp.path());
    let refused = certfleet(&[
        "csr",
        "new",
        "--cn",
        "node.example.test",
        "--out",
        arg(&node),
    ]);
    assert_refused(&refused, &tmp.join("node.key"));
    assert_eq!(
        snapshot(tmp.path()),
        kept,
        "a refused csr new wrote something"
    );
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "node.example.test",
        "--out",
        arg(&node),
        "--force",
    ]));
    assert_eq!(
        public_key("key", &tmp.join("node.key")),
        public_key("req", &tmp.join("node.csr"))
    );
}
