//! What certfleet must refuse or repair around an applied platform: a keystore password
//! chosen as a `CRYPT:` value (opened only with the master key), a CA reply for another
//! key, an output path that climbs out of the root, an output changed or opened up on
//! disk after apply.

use super::checks::check_outputs;
use super::examples::{ok_stdout, san_line, OpensslCa};
use super::material::{keytool, keytool_entries, keytool_list};
use super::{changes, snapshot, Run};
use crate::support::run::{arg, describe, TempDir};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};

/// A fixed test master key (base64 of 32 bytes).
const MASTER_KEY: &str = "Y2VydGZsZWV0IGUyZSBwbGF0Zm9ybSBtYXN0ZXIgayE=";

/// certfleet with `args` and, when given, the master key in the environment.
fn certfleet_env(args: &[&str], master_key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certfleet"));
    cmd.args(args)
        .stdin(Stdio::null())
        .env_remove("CERTFLEET_MASTER_KEY");
    if let Some(key) = master_key {
        cmd.env("CERTFLEET_MASTER_KEY", key);
    }
    cmd.output().expect("failed to start the certfleet binary")
}

#[test]
fn a_crypt_password_opens_only_with_the_master_key() {
    let run = Run::new("interaction-recording.toml");
    let nodata = run.dir.join("no-data-dir");
    let seal = |plain: &str| {
        let out = certfleet_env(&["encrypt", plain], Some(MASTER_KEY));
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        let sealed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(sealed.starts_with("CRYPT:"), "{sealed}");
        sealed
    };
    let plain = "Jetty-Store-2026!";
    let key_plain = "Jetty-Key-2026?";
    // rws-1's Jetty keystore gets a chosen store password and a separate key password
    // (Jetty's keyStorePassword and keyManagerPassword), both sealed.
    let text = std::fs::read_to_string(&run.model_file).unwrap().replacen(
        "alias = \"jetty\"\n",
        &format!(
            "alias = \"jetty\"\npassword = \"{}\"\nkey_password = \"{}\"\n",
            seal(plain),
            seal(key_plain)
        ),
        1,
    );
    std::fs::write(&run.model_file, text).unwrap();
    let args = |command: &'static str| {
        let mut args = vec![
            command,
            "--model",
            arg(&run.model_file),
            "--root",
            arg(&run.root),
            "--data-dir",
            arg(&nodata),
            "--json",
        ];
        if command == "apply" {
            args.push("--reload");
        }
        args
    };

    // Without the master key: refused, naming the CRYPT value's place, nothing written.
    let refused = certfleet_env(&args("apply"), None);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("CRYPT") || stderr.contains("master key"),
        "{}",
        describe(&refused)
    );
    assert!(!stderr.contains(plain));
    assert!(
        snapshot(&run.root).is_empty(),
        "apply without the master key wrote {:?}",
        snapshot(&run.root).keys().collect::<Vec<_>>()
    );

    // With it: keytool opens the keystore with the plain password.
    let applied = certfleet_env(&args("apply"), Some(MASTER_KEY));
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    let output = String::from_utf8_lossy(&applied.stdout).into_owned()
        + &String::from_utf8_lossy(&applied.stderr);
    assert!(
        !output.contains(plain),
        "apply printed the keystore password"
    );
    let keystore = run.root.join("srv/gir-stage/rws01/etc/keystore");
    let listing = keytool_list(&keystore, plain);
    assert!(
        keytool_entries(&listing)
            .iter()
            .any(|(alias, kind)| alias == "jetty" && kind == "PrivateKeyEntry"),
        "{listing}"
    );
    // The key itself opens only with its own password.
    let p12 = run.work("jetty").join("jetty.p12");
    let converted = keytool(&[
        "-importkeystore",
        "-noprompt",
        "-srckeystore",
        arg(&keystore),
        "-srcstorepass",
        plain,
        "-srcalias",
        "jetty",
        "-srckeypass",
        key_plain,
        "-destkeystore",
        arg(&p12),
        "-deststoretype",
        "PKCS12",
        "-deststorepass",
        plain,
    ]);
    assert!(converted.status.success(), "{}", describe(&converted));
    assert!(!output.contains(key_plain));
    // The other keystores still have generated passwords.
    let passwords = run.passwords();
    assert!(passwords.contains_key(arg(&run.root.join("srv/gir-stage/rws02/etc/keystore"))));
    let plan = certfleet_env(&args("plan"), Some(MASTER_KEY));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert!(changes(&plan).is_empty(), "{plan:#}");
}

#[test]
fn a_ca_reply_for_another_key_is_refused() {
    let run = Run::new("contact-center.toml");
    run.json("apply");
    let state = run.state();
    let csr = state.join("csr/chat.csr");
    let sans = san_line(&ok_stdout(&["req", "-in", arg(&csr), "-noout", "-text"]));
    // A CSR with the same names but a key certfleet never made (someone else's request).
    let work = run.work("other-key");
    let other_csr = work.join("other.csr");
    ok_stdout(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        arg(&work.join("other.key")),
        "-subj",
        "/CN=ccp01.cc.corp.example",
        "-out",
        arg(&other_csr),
    ]);
    let ca = OpensslCa::new(&work);
    std::fs::create_dir_all(state.join("replies")).unwrap();
    std::fs::write(
        state.join("replies/chat.crt"),
        ca.sign(&other_csr, &sans, 7),
    )
    .unwrap();
    let before = snapshot(&run.root);
    let out = run.run("apply");
    assert_eq!(
        out.status.code(),
        Some(2),
        "a reply for another key was not refused\n{}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("key"),
        "the refusal should say the key does not match\n{}",
        describe(&out)
    );
    assert_eq!(
        snapshot(&run.root),
        before,
        "the refused reply changed files"
    );
    assert!(!run
        .root
        .join("srv/ccx-stage/ccp01/tomcat/tomcat.crt")
        .exists());
}

#[test]
fn an_output_path_out_of_the_root_is_refused() {
    let dir = TempDir::new();
    let root = dir.join("root");
    std::fs::create_dir(&root).unwrap();
    let model = dir.join("model.toml");
    let text = "[platform]\nname = \"escape\"\nca = \"internal\"\nkey = \"ecdsa-p256\"\n\n\
                [[node]]\nname = \"n1\"\nfqdn = \"n1.corp.example\"\n\n\
                [[service]]\nname = \"api\"\nnode = \"n1\"\nusage = \"server\"\n\n\
                [[service.output]]\nformat = \"pem-pair\"\npath = \"/srv/../../../etc/api\"\n";
    std::fs::write(&model, text).unwrap();
    for command in ["plan", "apply"] {
        let out = certfleet_env(
            &[
                command,
                "--model",
                arg(&model),
                "--root",
                arg(&root),
                "--json",
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{command}\n{}", describe(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("/srv/../../../etc/api"),
            "{}",
            describe(&out)
        );
        assert!(snapshot(&root).is_empty());
        assert!(
            !dir.join("etc").exists() && !dir.path().parent().unwrap().join("etc/api.key").exists()
        );
    }
}

#[test]
fn an_output_changed_on_disk_is_planned_and_rewritten() {
    let run = Run::new("media-gateway.toml");
    run.json("apply");
    // Someone replaced the NRCS trust file with a control station's (which trusts the
    // standby too).
    let nrcs = run
        .root
        .join("srv/mosgw-stage/nrcs01/trust/mos-gateway.crt");
    std::fs::copy(
        run.root
            .join("srv/mosgw-stage/ctl-studio-a/trust/mos-gateways.crt"),
        &nrcs,
    )
    .unwrap();
    let plan = run.json("plan");
    assert!(
        changes(&plan)
            .iter()
            .any(|c| c["service"] == "newsroom-system" && c["action"] == "write"),
        "a truststore that no longer holds what the model says is not noticed:\n{plan:#}"
    );
    run.json("apply");
    let material = check_outputs(&run);
    assert_eq!(material["newsroom-system"].trust_sha1s.len(), 1);
}

#[test]
fn a_key_file_opened_up_on_disk_is_made_private_again() {
    let run = Run::new("softphone-platform.toml");
    run.json("apply");
    let key = run
        .root
        .join("srv/softphone/syncroot/common/cert/server.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let plan = run.json("plan");
    assert!(
        changes(&plan)
            .iter()
            .any(|c| c["service"] == "ws-certdir" && c["action"] == "write"),
        "a private key readable by everyone is not noticed:\n{plan:#}"
    );
    run.json("apply");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn plan_and_apply_help_say_that_external_requests_are_written() {
    // plan writes nothing else, so writing a key and a CSR must not come as a surprise.
    for command in ["plan", "apply"] {
        let out = certfleet_env(&[command, "--help"], None);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        let help = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
        for needle in [
            "ca = \"external\"",
            "STATE/csr/SERVICE.csr",
            "STATE/keys/SERVICE.key",
        ] {
            assert!(
                help.contains(needle),
                "certfleet {command} --help does not mention {needle}\n{}",
                describe(&out)
            );
        }
    }
}
