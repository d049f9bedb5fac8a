//! `certfleet lint` judging certificates made by the real `openssl` command, not by
//! certfleet: each classic mistake is made with openssl and must be reported with the
//! exact code and severity, every finding must carry a hint, and the exit status must be
//! 1 exactly when an error is found (docs/CLI.md `lint`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::run::{arg, certfleet, describe, stdout_json, TempDir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Extension sections for the certificates of these tests (`-extensions NAME`).
const EXTENSIONS: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[root]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:web.example.test,IP:10.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_cn_not_in_san]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_critical_eku]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = critical,serverAuth
subjectAltName = DNS:web.example.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// A root and an intermediate made by openssl in a scratch directory, able to sign
/// leaves in every way the tests need.
pub(super) struct OpensslCa {
    dir: TempDir,
}

impl OpensslCa {
    pub(super) fn new() -> Self {
        let ca = OpensslCa {
            dir: TempDir::new(),
        };
        std::fs::write(ca.path("ext.cnf"), EXTENSIONS).unwrap();
        ca.openssl(
            "req -x509 -config ext.cnf -extensions root -newkey rsa:2048 -nodes \
             -keyout root.key -out root.crt -subj /CN=Lint-Root -days 60",
        );
        ca.openssl(
            "req -config ext.cnf -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr \
             -subj /CN=Lint-Issuing",
        );
        ca.openssl(
            "x509 -req -in inter.csr -CA root.crt -CAkey root.key -CAcreateserial -days 60 \
             -extfile ext.cnf -extensions inter -sha256 -out inter.crt",
        );
        ca
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Runs one openssl command line (split on white space) in the scratch directory;
    /// panics with openssl's output when it fails.
    fn openssl(&self, line: &str) {
        let out = Command::new("openssl")
            .current_dir(self.dir.path())
            .args(line.split_whitespace())
            .stdin(Stdio::null())
            .output()
            .expect("failed to start openssl (run scripts/install-test-deps)");
        assert!(
            out.status.success(),
            "openssl {line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A new key `NAME.key` (`ec` for P-256, `rsa:BITS` for RSA) and a CSR `NAME.csr`
    /// for `cn`.
    fn key_and_csr(&self, name: &str, key: &str, cn: &str) {
        let newkey = if key.starts_with("rsa:") {
            key.to_string()
        } else {
            "ec -pkeyopt ec_paramgen_curve:P-256".to_string()
        };
        self.openssl(&format!(
            "req -config ext.cnf -newkey {newkey} -nodes -keyout {name}.key -out {name}.csr \
             -subj /CN={cn}"
        ));
    }

    /// A leaf `NAME.crt` (key `NAME.key`) signed by the intermediate with
    /// `openssl x509 -req`, with the extensions of `section`, valid for `days`.
    pub(super) fn leaf(
        &self,
        name: &str,
        key: &str,
        cn: &str,
        section: &str,
        digest: &str,
        days: u32,
    ) {
        self.key_and_csr(name, key, cn);
        self.openssl(&format!(
            "x509 -req -in {name}.csr -CA inter.crt -CAkey inter.key -CAcreateserial \
             -days {days} -extfile ext.cnf -extensions {section} {digest} -out {name}.crt"
        ));
    }

    /// A leaf `NAME.crt` signed by the intermediate with `openssl ca`, for dates of our
    /// choosing (`YYYYMMDDHHMMSSZ`); openssl 3.0's `x509` cannot set them.
    pub(super) fn dated_leaf(&self, name: &str, start: &str, end: &str) {
        self.key_and_csr(name, "ec", "web.example.test");
        let db = self.path("ca-db");
        if !db.exists() {
            std::fs::create_dir(&db).unwrap();
            std::fs::write(db.join("index.txt"), "").unwrap();
            std::fs::write(db.join("serial"), "1000\n").unwrap();
            let config = format!(
                "[ca]\ndefault_ca = lint\n[lint]\ndatabase = {d}/index.txt\n\
                 new_certs_dir = {d}\nserial = {d}/serial\ndefault_md = sha256\n\
                 policy = any\nunique_subject = no\n[any]\ncommonName = supplied\n",
                d = db.display()
            );
            std::fs::write(self.path("ca.cnf"), config).unwrap();
        }
        self.openssl(&format!(
            "ca -batch -config ca.cnf -cert inter.crt -keyfile inter.key -in {name}.csr \
             -out {name}.crt -startdate {start} -enddate {end} -extfile ext.cnf \
             -extensions leaf -notext"
        ));
    }

    /// Concatenates the named files (PEM) into `NAME` and returns its path.
    pub(super) fn bundle(&self, name: &str, parts: &[&str]) -> PathBuf {
        let text: String = parts
            .iter()
            .map(|p| std::fs::read_to_string(self.path(p)).unwrap())
            .collect();
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// `(code, severity)` of each finding of `certfleet lint FILE --json [extra]`, after
/// checking the contract (see [`checked_findings`]).
fn lint(file: &Path, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["lint", arg(file), "--json"];
    args.extend_from_slice(extra);
    checked_findings(&certfleet(&args))
}

/// `(code, severity)` of each finding of one `certfleet lint --json` run, after checking
/// the contract: every finding has a code, a known severity, a message and a non-empty
/// hint, and the exit status is 1 exactly when one is an error.
pub(super) fn checked_findings(out: &Output) -> Vec<(String, String)> {
    let json = stdout_json(out);
    let findings = json["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no `findings` array\n{}", describe(out)));
    let mut seen = Vec::new();
    for finding in findings {
        let field = |name: &str| finding[name].as_str().unwrap_or_default().to_string();
        let (code, severity) = (field("code"), field("severity"));
        assert!(!code.is_empty(), "finding without a code: {finding}");
        assert!(
            ["error", "warning", "notice"].contains(&severity.as_str()),
            "bad severity: {finding}"
        );
        assert!(
            !field("message").trim().is_empty(),
            "finding without a message: {finding}"
        );
        assert!(
            !field("hint").trim().is_empty(),
            "finding without a hint: {finding}"
        );
        seen.push((code, severity));
    }
    let has_error = seen.iter().any(|(_, s)| s == "error");
    let expected = if has_error { 1 } else { 0 };
    assert_eq!(
        out.status.code(),
        Some(expected),
        "exit status must be {expected} for these findings\n{}",
        describe(out)
    );
    seen
}

/// Panics unless `findings` holds `code` with `severity`.
pub(super) fn assert_found(findings: &[(String, String)], code: &str, severity: &str) {
    assert!(
        findings.iter().any(|(c, s)| c == code && s == severity),
        "expected {code} ({severity}) among {findings:?}"
    );
}

#[test]
fn a_well_made_openssl_chain_has_no_error_or_warning() {
    let ca = OpensslCa::new();
    ca.leaf("good", "ec", "web.example.test", "leaf", "-sha256", 90);
    let file = ca.bundle(
        "good.pem",
        &["good.key", "good.crt", "inter.crt", "root.crt"],
    );
    for extra in [
        &[][..],
        &["--host", "web.example.test"],
        &["--host", "10.0.0.1"],
    ] {
        let findings = lint(&file, extra);
        assert!(
            findings.iter().all(|(_, s)| s == "notice"),
            "{extra:?}: {findings:?}"
        );
    }
}

#[test]
fn a_common_name_missing_from_the_sans_is_an_error() {
    let ca = OpensslCa::new();
    ca.leaf(
        "cn",
        "ec",
        "web.example.test",
        "leaf_cn_not_in_san",
        "-sha256",
        90,
    );
    let file = ca.bundle("cn.pem", &["cn.crt", "inter.crt", "root.crt"]);
    assert_found(&lint(&file, &[]), "cn-not-in-san", "error");
}

#[test]
fn a_critical_extended_key_usage_is_an_error() {
    let ca = OpensslCa::new();
    ca.leaf(
        "crit",
        "ec",
        "web.example.test",
        "leaf_critical_eku",
        "-sha256",
        90,
    );
    let file = ca.bundle("crit.pem", &["crit.crt", "inter.crt", "root.crt"]);
    assert_found(&lint(&file, &[]), "critical-extension", "error");
}

#[test]
fn an_rsa_1024_key_is_an_error() {
    let ca = OpensslCa::new();
    ca.leaf(
        "weak",
        "rsa:1024",
        "web.example.test",
        "leaf",
        "-sha256",
        90,
    );
    let file = ca.bundle(
        "weak.pem",
        &["weak.key", "weak.crt", "inter.crt", "root.crt"],
    );
    assert_found(&lint(&file, &[]), "weak-rsa-key", "error");
}

#[test]
fn a_sha1_signature_is_an_error() {
    let ca = OpensslCa::new();
    ca.leaf("sha1", "ec", "web.example.test", "leaf", "-sha1", 90);
    let file = ca.bundle("sha1.pem", &["sha1.crt", "inter.crt", "root.crt"]);
    let findings = lint(&file, &[]);
    assert_found(&findings, "sha1-signature", "error");
    assert!(
        !findings.iter().any(|(c, _)| c == "signature-invalid"),
        "a SHA-1 signature is weak, not invalid: {findings:?}"
    );
}

#[test]
fn expired_and_not_yet_valid_certificates_are_errors() {
    let ca = OpensslCa::new();
    ca.dated_leaf("old", "20200101000000Z", "20200201000000Z");
    ca.dated_leaf("future", "20900101000000Z", "20910101000000Z");
    let old = ca.bundle("old.pem", &["old.crt", "inter.crt", "root.crt"]);
    assert_found(&lint(&old, &[]), "expired", "error");
    let future = ca.bundle("future.pem", &["future.crt", "inter.crt", "root.crt"]);
    assert_found(&lint(&future, &[]), "not-yet-valid", "error");
}

#[test]
fn a_certificate_expiring_within_14_days_is_a_warning() {
    let ca = OpensslCa::new();
    ca.leaf("soon", "ec", "web.example.test", "leaf", "-sha256", 5);
    let file = ca.bundle(
        "soon.pem",
        &["soon.key", "soon.crt", "inter.crt", "root.crt"],
    );
    let findings = lint(&file, &[]);
    assert_found(&findings, "expiring-soon", "warning");
    assert!(
        !findings.iter().any(|(_, s)| s == "error"),
        "a warning alone must exit 0: {findings:?}"
    );
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_an_error() {
    let ca = OpensslCa::new();
    ca.leaf("leaf", "ec", "web.example.test", "leaf", "-sha256", 90);
    ca.key_and_csr("stranger", "ec", "stranger.example.test");
    let file = ca.bundle(
        "mixed.pem",
        &["stranger.key", "leaf.crt", "inter.crt", "root.crt"],
    );
    assert_found(&lint(&file, &[]), "key-mismatch", "error");
}

#[test]
fn a_chain_out_of_order_is_an_error() {
    let ca = OpensslCa::new();
    ca.leaf("leaf", "ec", "web.example.test", "leaf", "-sha256", 90);
    let file = ca.bundle("shuffled.pem", &["leaf.crt", "root.crt", "inter.crt"]);
    assert_found(&lint(&file, &[]), "chain-out-of-order", "error");
}

#[test]
fn a_chain_without_its_intermediate_is_incomplete() {
    let ca = OpensslCa::new();
    ca.leaf("leaf", "ec", "web.example.test", "leaf", "-sha256", 90);
    let file = ca.bundle("gap.pem", &["leaf.crt", "root.crt"]);
    assert_found(&lint(&file, &[]), "chain-incomplete", "error");
}

#[test]
fn a_host_the_sans_do_not_cover_is_an_error() {
    let ca = OpensslCa::new();
    ca.leaf("leaf", "ec", "web.example.test", "leaf", "-sha256", 90);
    let file = ca.bundle("leaf.pem", &["leaf.crt", "inter.crt", "root.crt"]);
    assert_found(
        &lint(&file, &["--host", "other.example.test"]),
        "host-not-covered",
        "error",
    );
    assert_found(
        &lint(&file, &["--host", "10.0.0.2"]),
        "host-not-covered",
        "error",
    );
}
