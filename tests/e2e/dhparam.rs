//! `certfleet dhparam` judged by openssl: the RFC 7919 groups are recognised by name and
//! pass `openssl dhparam -check`, and so do freshly generated parameters.

use crate::support::openssl::openssl;
use crate::support::run::{arg, assert_exit, assert_ok, certfleet, describe, TempDir};
use std::path::Path;

fn assert_openssl_checks(path: &Path) {
    let out = openssl(["dhparam", "-check", "-noout", "-in", arg(path)]);
    assert!(
        out.status.success(),
        "openssl dhparam -check refused {}\n{}",
        path.display(),
        describe(&out)
    );
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("appear to be ok"), "{said}");
}

fn openssl_group_name(path: &Path) -> String {
    let out = openssl(["pkeyparam", "-text", "-noout", "-in", arg(path)]);
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("GROUP: ").map(str::to_owned))
        .unwrap_or_default()
}

#[test]
fn rfc7919_groups_are_written_instantly_and_recognised_by_openssl() {
    let dir = TempDir::new();
    for bits in ["2048", "3072", "4096"] {
        let out = dir.join(&format!("ffdhe{bits}.pem"));
        let started = std::time::Instant::now();
        assert_ok(&certfleet(&["dhparam", "--bits", bits, "--out", arg(&out)]));
        assert!(
            started.elapsed().as_secs() < 10,
            "the fixed groups are instant"
        );
        assert_openssl_checks(&out);
        assert_eq!(openssl_group_name(&out), format!("ffdhe{bits}"));
    }
}

#[test]
fn generate_makes_fresh_safe_prime_parameters_that_openssl_accepts() {
    // 2048 bits takes tens of seconds on two cores (more when the suite runs alongside);
    // the search itself is unit-tested at small sizes in certfleet-formats.
    let dir = TempDir::new();
    let out = dir.join("fresh.pem");
    let run = certfleet(&[
        "dhparam",
        "--bits",
        "2048",
        "--generate",
        "--out",
        arg(&out),
    ]);
    assert_ok(&run);
    let progress = String::from_utf8_lossy(&run.stderr);
    assert!(
        progress.contains('*') && progress.contains("generating"),
        "{progress}"
    );
    assert_openssl_checks(&out);
    assert_eq!(
        openssl_group_name(&out),
        "",
        "fresh parameters are not a named group"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("-----BEGIN DH PARAMETERS-----\n"));
}

#[test]
fn unsupported_sizes_are_refused_and_nothing_is_written() {
    let dir = TempDir::new();
    for bits in ["1024", "0", "8192"] {
        let out = dir.join("dh.pem");
        let run = certfleet(&["dhparam", "--bits", bits, "--out", arg(&out)]);
        assert_exit(&run, 2);
        assert!(String::from_utf8_lossy(&run.stderr).contains("2048, 3072 or 4096"));
        assert!(!out.exists());
    }
}
