//! `certfleet verify` from the command line: each refusal gives its reason in words and
//! exits 1; `--profile webpki` adds the CA/Browser Forum rules; `--limbo` prints the
//! harness document.

use crate::support::run::{arg, assert_exit, assert_ok, certfleet, stdout, stdout_json, TempDir};
use std::fs;

fn issued(dir: &TempDir) {
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&dir.join("ca")),
        "--cn",
        "Verify Root",
        "--intermediate-cn",
        "Verify Issuing",
    ]));
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&dir.join("foreign")),
        "--cn",
        "Foreign Root",
    ]));
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--ca",
        arg(&dir.join("ca")),
        "--cn",
        "api.example.test",
        "--ip",
        "192.0.2.10",
        "--days",
        "30",
        "--out",
        arg(&dir.join("api")),
    ]));
}

#[test]
fn refusals_name_their_reason_and_ip_sans_are_accepted() {
    let dir = TempDir::new();
    issued(&dir);
    let root = dir.join("ca/root.crt");
    let leaf = dir.join("api.crt");
    let chain = dir.join("api.chain.crt");
    let base = [
        "verify",
        arg(&leaf),
        "--trust",
        arg(&root),
        "--chain",
        arg(&chain),
    ];

    let ok = certfleet(&[&base[..], &["--host", "api.example.test"]].concat());
    assert_ok(&ok);
    let ok = certfleet(&[&base[..], &["--host", "192.0.2.10", "--json"]].concat());
    assert_ok(&ok);
    assert_eq!(stdout_json(&ok)["valid"], true);

    let refusals: [(&[&str], &str, &str); 4] = [
        (
            &["--host", "www.example.test"],
            "name_mismatch",
            "www.example.test",
        ),
        (
            &["--purpose", "client"],
            "wrong_purpose",
            "client authentication",
        ),
        (&["--at", "2099-01-01T00:00:00Z"], "expired", "expired"),
        (&["--host", "192.0.2.11"], "name_mismatch", "192.0.2.11"),
    ];
    for (extra, code, words) in refusals {
        let out = certfleet(&[&base[..], extra, &["--json"]].concat());
        assert_exit(&out, 1);
        let json = stdout_json(&out);
        assert_eq!(json["valid"], false);
        assert_eq!(json["code"], code, "{extra:?}: {json}");
        assert!(
            json["reason"].as_str().unwrap().contains(words),
            "{extra:?}: {json}"
        );
    }
    let foreign = certfleet(&[
        "verify",
        arg(&leaf),
        "--trust",
        arg(&dir.join("foreign/root.crt")),
        "--chain",
        arg(&chain),
    ]);
    assert_exit(&foreign, 1);
    let text = stdout(&foreign);
    assert!(
        text.contains("NOT VALID") && text.contains("trust"),
        "{text}"
    );
}

#[test]
fn limbo_prints_the_harness_document() {
    let dir = TempDir::new();
    issued(&dir);
    let pem = |name: &str| fs::read_to_string(dir.join(name)).unwrap();
    let suite = serde_json::json!({
        "version": 1,
        "testcases": [
            {
                "id": "certfleet::good", "features": [], "description": "", "validation_kind": "SERVER",
                "trusted_certs": [pem("ca/root.crt")], "untrusted_intermediates": [pem("ca/intermediate.crt")],
                "peer_certificate": pem("api.crt"), "validation_time": null, "signature_algorithms": [],
                "key_usage": [], "extended_key_usage": [], "expected_result": "SUCCESS",
                "expected_peer_name": {"kind": "DNS", "value": "api.example.test"}, "expected_peer_names": [],
                "max_chain_depth": null
            },
            {
                "id": "certfleet::foreign", "features": [], "description": "", "validation_kind": "SERVER",
                "trusted_certs": [pem("foreign/root.crt")], "untrusted_intermediates": [pem("ca/intermediate.crt")],
                "peer_certificate": pem("api.crt"), "validation_time": null, "signature_algorithms": [],
                "key_usage": [], "extended_key_usage": [], "expected_result": "FAILURE",
                "expected_peer_name": {"kind": "DNS", "value": "api.example.test"}, "expected_peer_names": [],
                "max_chain_depth": null
            }
        ]
    });
    let path = dir.join("suite.json");
    fs::write(&path, suite.to_string()).unwrap();
    for profile in ["rfc5280", "webpki"] {
        let out = certfleet(&["verify", "--limbo", arg(&path), "--profile", profile]);
        assert_ok(&out);
        let json = stdout_json(&out);
        assert_eq!(json["version"], 1);
        assert_eq!(json["harness"], "certfleet");
        assert_eq!(json["results"][0]["id"], "certfleet::good");
        assert_eq!(json["results"][0]["actual_result"], "SUCCESS", "{profile}");
        assert_eq!(json["results"][1]["actual_result"], "FAILURE", "{profile}");
    }
}

#[test]
fn the_webpki_profile_refuses_what_a_public_ca_may_not_issue() {
    let dir = TempDir::new();
    issued(&dir);
    // 500 days: fine from a platform's CA, longer than a public CA may issue (398).
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--ca",
        arg(&dir.join("ca")),
        "--cn",
        "long.example.test",
        "--days",
        "500",
        "--out",
        arg(&dir.join("long")),
    ]));
    let root = dir.join("ca/root.crt");
    let verify = |name: &str, profile: &[&str]| {
        let leaf = dir.join(&format!("{name}.crt"));
        let chain = dir.join(&format!("{name}.chain.crt"));
        let args = [
            "verify",
            arg(&leaf),
            "--trust",
            arg(&root),
            "--chain",
            arg(&chain),
            "--json",
        ];
        certfleet(&[&args[..], profile].concat())
    };
    assert_ok(&verify("api", &["--profile", "webpki"]));
    assert_ok(&verify("long", &[]));
    assert_ok(&verify("long", &["--profile", "rfc5280"]));
    let refused = verify("long", &["--profile", "webpki"]);
    assert_exit(&refused, 1);
    let json = stdout_json(&refused);
    assert_eq!(json["valid"], false);
    assert_eq!(json["code"], "baseline_requirements");
    let reason = json["reason"].as_str().unwrap();
    assert!(
        reason.contains("CN=long.example.test") && reason.contains("398 days"),
        "{reason}"
    );
    assert_exit(&verify("long", &["--profile", "cabf"]), 2);
    let help = stdout(&certfleet(&["verify", "--help"]));
    assert!(
        help.contains("--profile") && help.contains("webpki") && help.contains("Baseline"),
        "{help}"
    );
}

/// A trust store made by keytool (as the manuals' truststores are) is read with its
/// password, taken here from the environment; the wrong password is refused by name.
#[test]
fn a_keytool_truststore_is_read_with_its_password() {
    let dir = TempDir::new();
    issued(&dir);
    let store = dir.join("truststore.jks");
    let keytool = std::process::Command::new("keytool")
        .args([
            "-importcert",
            "-noprompt",
            "-alias",
            "root",
            "-storetype",
            "JKS",
        ])
        .args(["-file", arg(&dir.join("ca/root.crt"))])
        .args(["-keystore", arg(&store), "-storepass", "trust-Pass1"])
        .output()
        .expect("keytool runs");
    assert!(keytool.status.success(), "keytool: {keytool:?}");
    let verify = |password: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_certfleet"));
        command
            .args(["verify", arg(&dir.join("api.crt")), "--trust", arg(&store)])
            .args(["--chain", arg(&dir.join("api.chain.crt"))])
            .args(["--password", password])
            .env("TRUST_PASSWORD", "trust-Pass1");
        command.output().expect("certfleet runs")
    };
    assert_ok(&verify("env:TRUST_PASSWORD"));
    assert_ok(&verify("trust-Pass1"));
    let wrong = verify("not-the-password");
    assert!(!wrong.status.success(), "a wrong password was accepted");
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        message.contains("truststore.jks") && !message.contains("not-the-password"),
        "{message}"
    );
}
