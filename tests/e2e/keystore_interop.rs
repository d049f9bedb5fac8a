//! `certfleet keystore` against the real keytool and openssl, both directions: our JKS and
//! PKCS#12 (modern and legacy) keystores and truststores listed and used by keytool and
//! openssl (here); keytool- and openssl-made stores read by us ([`foreign`]); wrong
//! passwords, damage, `passwd`, `delete` and `export` ([`lifecycle`]).

mod foreign;
mod lifecycle;

use crate::support::openssl::openssl;
use crate::support::run::{arg, assert_ok, certfleet, describe, TempDir};
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The store password of these tests.
pub(crate) const PW: &str = "s3cret-pw";

/// Splits a command line on whitespace; the test paths have none (checked).
pub(crate) fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Runs certfleet with the words of `line`.
pub(crate) fn cf(line: &str) -> Output {
    certfleet(&words(line))
}

/// Runs keytool with the words of `line`, stdin closed.
pub(crate) fn kt(line: &str) -> Output {
    Command::new("keytool")
        .args(words(line))
        .stdin(Stdio::null())
        .output()
        .expect("failed to start keytool (run scripts/install-test-deps)")
}

/// Runs openssl with the words of `line`; panics unless it succeeds. Returns stdout and
/// stderr together (openssl's `-info` goes to stderr).
pub(crate) fn ossl_ok(line: &str) -> String {
    let out = openssl(words(line));
    assert!(out.status.success(), "openssl {line}\n{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A scratch directory whose path has no whitespace, so command lines can be split.
pub(crate) fn scratch() -> TempDir {
    let dir = TempDir::new();
    assert!(!arg(dir.path()).contains(char::is_whitespace));
    dir
}

/// `keytool -list -v` of `store`; panics unless keytool accepts it.
pub(crate) fn keytool_list(store: &Path, password: &str) -> String {
    let out = kt(&format!(
        "-list -v -keystore {} -storepass {password}",
        store.display()
    ));
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The entry type and chain length keytool lists for `alias` (0 for a trusted certificate).
pub(crate) fn keytool_entry(listing: &str, alias: &str) -> (String, usize) {
    let block = listing
        .split("Alias name: ")
        .find(|b| b.lines().next() == Some(alias))
        .unwrap_or_else(|| panic!("keytool lists no alias {alias}:\n{listing}"));
    let field = |name: &str| {
        block
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
    };
    let kind = field("Entry type:").unwrap_or_default();
    let chain = field("Certificate chain length:").map_or(0, |n| n.parse().unwrap());
    (kind, chain)
}

/// A root, an issuing CA (`DIR/ca`) and a server leaf (`DIR/web.*`), made by certfleet.
pub(crate) fn make_pki(dir: &TempDir, key: &str) {
    let d = dir.path().display();
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        &format!("{d}/ca"),
        "--cn",
        "Interop Root",
        "--intermediate-cn",
        "Interop Issuing",
        "--key",
        key,
    ]));
    assert_ok(&cf(&format!(
        "cert issue --ca {d}/ca --cn web.example.test --ip 127.0.0.1 --key {key} --out {d}/web"
    )));
}

/// The public key of a PEM key (or, with `cert`, certificate) as openssl prints it.
pub(crate) fn public_key(path: &Path, cert: bool) -> String {
    let p = path.display();
    if cert {
        ossl_ok(&format!("x509 -in {p} -noout -pubkey"))
    } else {
        ossl_ok(&format!("pkey -in {p} -pubout"))
    }
}

/// With our commands: `store` gets key entry "server" (a 3-certificate chain) and trusted
/// "root"; `trust` gets trusted "root" and "issuing". `extra` goes to every import.
pub(crate) fn build(dir: &TempDir, store: &Path, trust: &Path, extra: &str) {
    let d = dir.path().display();
    let (s, t) = (store.display(), trust.display());
    let common = format!("--password {PW} {extra}");
    for line in [
        format!("import-key {s} --alias server --key {d}/web.key --cert {d}/web.crt --chain {d}/web.chain.crt"),
        format!("import-cert {s} --alias root --cert {d}/ca/root.crt"),
        format!("import-cert {t} --alias root --cert {d}/ca/root.crt"),
        format!("import-cert {t} --alias issuing --cert {d}/ca/intermediate.crt"),
    ] {
        assert_ok(&cf(&format!("keystore {line} {common}")));
    }
}

#[test]
fn keytool_lists_and_uses_our_keystores_and_truststores() {
    let dir = scratch();
    make_pki(&dir, "ecdsa-p256");
    let d = dir.path().display();
    let web_key = public_key(&dir.join("web.key"), false);
    for (name, extra, kind) in [
        ("server.jks", "", "JKS"),
        ("server.p12", "", "PKCS12"),
        ("legacy.p12", "--legacy", "PKCS12"),
        ("no-ending", "--type jks", "JKS"),
    ] {
        let store = dir.join(name);
        build(&dir, &store, &dir.join(&format!("trust-{name}")), extra);
        let listing = keytool_list(&store, PW);
        assert!(
            listing.contains(&format!("Keystore type: {kind}")),
            "{listing}"
        );
        assert!(
            listing.contains("Your keystore contains 2 entries"),
            "{listing}"
        );
        let server = keytool_entry(&listing, "server");
        assert_eq!(server, ("PrivateKeyEntry".into(), 3), "{name}");
        let root = keytool_entry(&listing, "root");
        assert_eq!(root, ("trustedCertEntry".into(), 0), "{name}");
        let listing = keytool_list(&dir.join(&format!("trust-{name}")), PW);
        assert!(
            listing.contains("Your keystore contains 2 entries"),
            "{listing}"
        );
        let issuing = keytool_entry(&listing, "issuing");
        assert_eq!(issuing, ("trustedCertEntry".into(), 0), "{name}");
        // keytool signs a CSR with the stored key: Java decrypted it, and it is our key.
        assert_ok(&kt(&format!(
            "-certreq -alias server -keystore {d}/{name} -storepass {PW} -file {d}/{name}.csr"
        )));
        let csr_key = ossl_ok(&format!("req -in {d}/{name}.csr -noout -pubkey -verify"));
        assert!(csr_key.contains(web_key.trim()), "{name}: {csr_key}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&store).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
}

#[test]
fn openssl_reads_our_pkcs12_modern_plainly_and_legacy_with_the_legacy_flag() {
    let dir = scratch();
    make_pki(&dir, "rsa2048");
    let d = dir.path().display();
    build(&dir, &dir.join("modern.p12"), &dir.join("t1.p12"), "");
    build(
        &dir,
        &dir.join("legacy.p12"),
        &dir.join("t2.p12"),
        "--legacy",
    );
    let pass = format!("-passin pass:{PW} -info");

    let text = ossl_ok(&format!("pkcs12 -in {d}/modern.p12 -nokeys {pass}"));
    assert!(
        text.contains("AES-256-CBC") && text.contains("MAC: sha256"),
        "{text}"
    );
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 4, "{text}"); // chain of 3, root
    let text = ossl_ok(&format!("pkcs12 -in {d}/t1.p12 -nokeys {pass}"));
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2, "{text}");

    let text = ossl_ok(&format!("pkcs12 -legacy -in {d}/legacy.p12 -nokeys {pass}"));
    assert!(text.contains("pbeWithSHA1And40BitRC2-CBC"), "{text}");
    assert!(text.contains("MAC: sha1"), "{text}");
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 4, "{text}");
    let text = ossl_ok(&format!(
        "pkcs12 -legacy -in {d}/legacy.p12 -nocerts -nodes {pass}"
    ));
    assert!(text.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{text}");
    fs::write(dir.join("from-legacy.key"), &text).unwrap();
    assert_eq!(
        public_key(&dir.join("from-legacy.key"), false),
        public_key(&dir.join("web.key"), false)
    );
    // openssl 3 refuses RC2 without -legacy: the old algorithms are really the ones used.
    let out = openssl(words(&format!(
        "pkcs12 -in {d}/legacy.p12 -nokeys -passin pass:{PW}"
    )));
    assert!(!out.status.success(), "{}", describe(&out));
}
