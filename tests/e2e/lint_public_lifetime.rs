//! `certfleet lint` holding a server certificate that chains to a system root to the
//! CA/Browser Forum lifetime maximum in force at its notBefore (398 days before
//! 2026-03-15, then 200, 100 from 2027-03-15, 47 from 2029-03-15), while a private CA's
//! certificate only gets the 398-day notice. The certificates are made by the real
//! `openssl` command; `SSL_CERT_FILE` stands for the system trust store, which is where
//! the system root loader looks first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::lint_openssl::{assert_found, checked_findings, OpensslCa};
use crate::support::run::arg;
use std::path::Path;
use std::process::{Command, Stdio};

const OVER_PUBLIC: &str = "validity-over-public-maximum";
const TOO_LONG: &str = "validity-too-long";

/// The findings of `certfleet lint FILE --json` with `roots` as the system roots.
fn lint_with_system_roots(file: &Path, roots: &Path) -> Vec<(String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(["lint", arg(file), "--json"])
        .env("SSL_CERT_FILE", roots)
        .env_remove("SSL_CERT_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("failed to start the certfleet binary");
    checked_findings(&out)
}

/// The lifetime findings among `findings`.
fn lifetime_codes(findings: &[(String, String)]) -> Vec<(String, String)> {
    findings
        .iter()
        .filter(|(code, _)| code == OVER_PUBLIC || code == TOO_LONG)
        .cloned()
        .collect()
}

#[test]
fn a_public_server_certificate_is_judged_by_the_maximum_at_its_not_before() {
    let ca = OpensslCa::new();
    let root = ca.path("root.crt");
    // (name, notBefore, notAfter, over the maximum in force at notBefore)
    let cases = [
        ("eve-398", "20260314120000Z", "20270416120000Z", false),
        ("eve-399", "20260314120000Z", "20270417120000Z", true),
        ("cut-200", "20260315000000Z", "20261001000000Z", false),
        ("cut-201", "20260315000000Z", "20261002000000Z", true),
        ("next-100", "20270315000000Z", "20270623000000Z", false),
        ("next-101", "20270315000000Z", "20270624000000Z", true),
        ("last-47", "20290315000000Z", "20290501000000Z", false),
        ("last-48", "20290315000000Z", "20290502000000Z", true),
    ];
    for (name, start, end, over) in cases {
        ca.dated_leaf(name, start, end);
        let file = ca.bundle(
            &format!("{name}.pem"),
            &[&format!("{name}.crt"), "inter.crt"],
        );
        let found = lifetime_codes(&lint_with_system_roots(&file, &root));
        let expected = if over {
            vec![(OVER_PUBLIC.to_string(), "warning".to_string())]
        } else {
            vec![]
        };
        assert_eq!(found, expected, "{name}: {start} to {end}");
    }
}

#[test]
fn a_year_long_certificate_is_fine_from_a_private_ca_and_too_long_from_a_public_one() {
    let ca = OpensslCa::new();
    ca.leaf("year", "ec", "web.example.test", "leaf", "-sha256", 365);
    let file = ca.bundle("year.pem", &["year.key", "year.crt", "inter.crt"]);

    let public = lint_with_system_roots(&file, &ca.path("root.crt"));
    assert_found(&public, OVER_PUBLIC, "warning");

    let elsewhere = OpensslCa::new();
    let private = lint_with_system_roots(&file, &elsewhere.path("root.crt"));
    assert_eq!(lifetime_codes(&private), [], "{private:?}");

    ca.leaf("short", "ec", "web.example.test", "leaf", "-sha256", 45);
    let short = ca.bundle("short.pem", &["short.crt", "inter.crt", "root.crt"]);
    assert_eq!(
        lifetime_codes(&lint_with_system_roots(&short, &ca.path("root.crt"))),
        []
    );

    ca.leaf("long", "ec", "web.example.test", "leaf", "-sha256", 500);
    let long = ca.bundle("long.pem", &["long.crt", "inter.crt"]);
    let private = lint_with_system_roots(&long, &elsewhere.path("root.crt"));
    assert_eq!(
        lifetime_codes(&private),
        [(TOO_LONG.to_string(), "notice".to_string())]
    );
}
