//! Bad input: garbage, the wrong kind of file, missing files and unreadable keys exit 2
//! with a message naming the file, and leave no output behind.

use crate::support::run::{arg, assert_exit, assert_ok, certfleet, TempDir};
use std::fs;

fn assert_names_file(out: &std::process::Output, file: &std::path::Path) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(arg(file)),
        "the message does not name {}: {stderr}",
        file.display()
    );
}

#[test]
fn garbage_wrong_kind_missing_and_unreadable_inputs_exit_2_naming_the_file() {
    let dir = TempDir::new();
    let ca = dir.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "Bad Input Root",
    ]));
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "a.example.test",
        "--out",
        arg(&dir.join("a")),
    ]));
    let garbage = dir.join("garbage.pem");
    fs::write(&garbage, b"\x00\x01this is not a certificate at all\xff").unwrap();
    let bad_base64 = dir.join("bad64.pem");
    fs::write(
        &bad_base64,
        "-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let truncated = dir.join("truncated.pem");
    let root = fs::read_to_string(ca.join("root.crt")).unwrap();
    fs::write(&truncated, &root[..root.len() / 2]).unwrap();
    let missing = dir.join("missing.crt");
    let unreadable_key = dir.join("unreadable.key");
    fs::write(
        &unreadable_key,
        "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let out_prefix = dir.join("out");

    let cases: Vec<(Vec<String>, std::path::PathBuf)> = vec![
        (
            vec!["inspect".into(), arg(&garbage).into()],
            garbage.clone(),
        ),
        (
            vec!["inspect".into(), arg(&bad_base64).into()],
            bad_base64.clone(),
        ),
        (
            vec!["inspect".into(), arg(&truncated).into()],
            truncated.clone(),
        ),
        (
            vec!["inspect".into(), arg(&missing).into()],
            missing.clone(),
        ),
        (
            vec!["inspect".into(), arg(&unreadable_key).into()],
            unreadable_key.clone(),
        ),
        (
            vec![
                "csr".into(),
                "sign".into(),
                "--ca".into(),
                arg(&ca).into(),
                "--csr".into(),
                arg(&garbage).into(),
                "--out".into(),
                arg(&out_prefix).into(),
            ],
            garbage.clone(),
        ),
        (
            // A certificate where a CSR belongs: the wrong kind of file.
            vec![
                "csr".into(),
                "sign".into(),
                "--ca".into(),
                arg(&ca).into(),
                "--csr".into(),
                arg(&ca.join("root.crt")).into(),
                "--out".into(),
                arg(&out_prefix).into(),
            ],
            ca.join("root.crt"),
        ),
        (
            vec![
                "cert".into(),
                "import".into(),
                "--csr".into(),
                arg(&dir.join("a.csr")).into(),
                "--cert".into(),
                arg(&bad_base64).into(),
                "--out".into(),
                arg(&out_prefix).into(),
            ],
            bad_base64.clone(),
        ),
        (
            vec![
                "cert".into(),
                "import".into(),
                "--csr".into(),
                arg(&dir.join("a.csr")).into(),
                "--cert".into(),
                arg(&ca.join("root.crt")).into(),
                "--key".into(),
                arg(&unreadable_key).into(),
                "--out".into(),
                arg(&out_prefix).into(),
            ],
            unreadable_key.clone(),
        ),
        (
            vec![
                "cert".into(),
                "issue".into(),
                "--ca".into(),
                arg(&dir.join("no-such-ca")).into(),
                "--cn".into(),
                "x.example.test".into(),
                "--out".into(),
                arg(&out_prefix).into(),
            ],
            dir.join("no-such-ca"),
        ),
    ];
    for (args, file) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = certfleet(&args);
        assert_exit(&out, 2);
        assert_names_file(&out, &file);
    }
    let mut left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("out"))
        .collect();
    left.sort();
    assert!(left.is_empty(), "output left behind: {left:?}");
}

#[test]
fn bad_usage_exits_2() {
    let dir = TempDir::new();
    for args in [
        vec![
            "cert",
            "issue",
            "--self-signed",
            "--cn",
            "My Server",
            "--out",
        ],
        vec![
            "cert",
            "issue",
            "--self-signed",
            "--cn",
            "x.example.test",
            "--key",
            "rsa512",
            "--out",
        ],
        vec![
            "cert",
            "issue",
            "--self-signed",
            "--cn",
            "x.example.test",
            "--usage",
            "everything",
            "--out",
        ],
        vec![
            "cert",
            "issue",
            "--self-signed",
            "--cn",
            "x.example.test",
            "--days",
            "0",
            "--out",
        ],
        vec![
            "csr",
            "new",
            "--cn",
            "x.example.test",
            "--no-san",
            "--san",
            "y.example.test",
            "--out",
        ],
    ] {
        let prefix = dir.join("p");
        let mut full = args.clone();
        full.push(arg(&prefix));
        let out = certfleet(&full);
        assert_exit(&out, 2);
        assert!(!String::from_utf8_lossy(&out.stderr).trim().is_empty());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{args:?} wrote something"
        );
    }
}
