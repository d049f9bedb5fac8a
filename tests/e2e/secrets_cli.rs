//! `encrypt`/`decrypt` and `secret generate|check` from the command line.

use crate::support::run::{arg, assert_exit, assert_ok, certfleet, stdout, TempDir};
use std::os::unix::fs::PermissionsExt;

#[test]
fn crypt_values_differ_each_time_and_open_only_with_their_data_directory() {
    let dir = TempDir::new();
    let data = dir.join("data");
    let first = certfleet(&["encrypt", "--data-dir", arg(&data), "storepwd"]);
    assert_ok(&first);
    let second = certfleet(&["encrypt", "--data-dir", arg(&data), "storepwd"]);
    let (first, second) = (
        stdout(&first).trim().to_owned(),
        stdout(&second).trim().to_owned(),
    );
    assert!(first.starts_with("CRYPT:") && second.starts_with("CRYPT:"));
    assert_ne!(first, second, "sealing twice must give different text");
    assert!(!first.contains("storepwd"));

    let opened = certfleet(&["decrypt", "--data-dir", arg(&data), &first]);
    assert_ok(&opened);
    assert_eq!(stdout(&opened).trim(), "storepwd");

    let other = dir.join("other");
    assert_ok(&certfleet(&[
        "encrypt",
        "--data-dir",
        arg(&other),
        "unrelated",
    ]));
    let refused = certfleet(&["decrypt", "--data-dir", arg(&other), &first]);
    assert_exit(&refused, 2);
    assert!(!String::from_utf8_lossy(&refused.stderr).contains("storepwd"));
    assert_exit(
        &certfleet(&["decrypt", "--data-dir", arg(&dir.join("none")), &first]),
        2,
    );

    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", entry.path().display());
    }
}

#[test]
fn secret_check_names_each_rule_and_generated_secrets_pass() {
    for (value, rule) in [
        ("Ab1!", "too short"),
        ("abcdefg1!", "upper-case"),
        ("ABCDEFG1!", "lower-case"),
        ("Abcdefgh!", "digit"),
        ("Abcdefgh1", "special"),
    ] {
        let out = certfleet(&["secret", "check", value]);
        assert_exit(&out, 1);
        assert!(stdout(&out).contains(rule), "{value}: {}", stdout(&out));
    }
    let long = format!("Ab1!{}", "x".repeat(61));
    let out = certfleet(&["secret", "check", &long]);
    assert_exit(&out, 1);
    assert!(stdout(&out).contains("too long"));
    for length in ["8", "20", "64"] {
        for _ in 0..5 {
            let generated = certfleet(&["secret", "generate", "--length", length]);
            assert_ok(&generated);
            let secret = stdout(&generated).trim().to_owned();
            assert_eq!(secret.len().to_string(), length);
            assert_ok(&certfleet(&["secret", "check", &secret]));
        }
    }
}
