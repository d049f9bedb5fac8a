//! Passwords given as `pass:`, `env:`, `file:`, `-` (standard input) or a bare value: the
//! same keystore command succeeds with each, and the stores it writes open in openssl and
//! keytool under the same password; a source that cannot be read is named (option and
//! source, never a secret) and nothing is written. Also `encrypt --for` values that do
//! not open in another field, and passwords asked for on a terminal (a pseudo-terminal
//! made by util-linux's `script`).

use crate::keystore_interop::{keytool_list, ossl_ok, scratch};
use crate::support::pki::self_signed;
use crate::support::run::{arg, assert_ok, describe, stdout, TempDir};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The password every store of these tests is written under.
const PASSWORD: &str = "S3cret-store.pw";

/// Runs certfleet with `args`, the environment variables `vars` added, and `stdin` piped
/// in (closed when `None`).
fn certfleet_with(args: &[&str], vars: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certfleet"));
    cmd.args(args)
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("failed to start the certfleet binary");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes())
            .expect("writing to certfleet's stdin");
    }
    child.wait_with_output().expect("waiting for certfleet")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `keystore import-key STORE --password SOURCE --alias web` with the given key and cert.
fn import_key(
    store: &Path,
    source: &str,
    key: &Path,
    cert: &Path,
    vars: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    certfleet_with(
        &[
            "keystore",
            "import-key",
            arg(store),
            "--password",
            source,
            "--alias",
            "web",
            "--key",
            arg(key),
            "--cert",
            arg(cert),
        ],
        vars,
        stdin,
    )
}

#[test]
fn every_password_source_writes_a_store_that_openssl_and_keytool_open() {
    let dir = scratch();
    let leaf = self_signed(dir.path(), "web.example.test");
    let password_file = dir.join("store.pw");
    std::fs::write(
        &password_file,
        format!("{PASSWORD}\nsecond line is ignored\n"),
    )
    .unwrap();
    let from_file = format!("file:{}", arg(&password_file));
    let given = format!("pass:{PASSWORD}");
    let sources: [(&str, &str, Option<&str>); 5] = [
        ("bare", PASSWORD, None),
        ("pass", &given, None),
        ("env", "env:CERTFLEET_E2E_STORE_PW", None),
        ("file", &from_file, None),
        ("stdin", "-", Some("S3cret-store.pw\n")),
    ];
    for (name, source, stdin) in sources {
        for ending in ["p12", "jks"] {
            let store = dir.join(&format!("{name}.{ending}"));
            let out = import_key(
                &store,
                source,
                &leaf.key(),
                &leaf.crt(),
                &[("CERTFLEET_E2E_STORE_PW", PASSWORD)],
                stdin,
            );
            assert_ok(&out);
            assert!(!stderr(&out).contains(PASSWORD), "{}", describe(&out));

            // Real peers, given the password directly.
            let listed = keytool_list(&store, PASSWORD);
            assert!(
                listed.contains("PrivateKeyEntry"),
                "{name}.{ending}: {listed}"
            );
            if ending == "p12" {
                let dumped = ossl_ok(&format!(
                    "pkcs12 -in {} -passin pass:{PASSWORD} -nodes",
                    store.display()
                ));
                assert!(dumped.contains("BEGIN PRIVATE KEY"), "{name}: {dumped}");
                assert!(
                    dumped.contains("CN=web.example.test")
                        || dumped.contains("CN = web.example.test")
                );
            }

            // And certfleet reads it back with the same source.
            let listed = certfleet_with(
                &[
                    "keystore",
                    "list",
                    arg(&store),
                    "--password",
                    source,
                    "--json",
                ],
                &[("CERTFLEET_E2E_STORE_PW", PASSWORD)],
                stdin,
            );
            assert_ok(&listed);
            assert!(stdout(&listed).contains("\"web\""), "{}", describe(&listed));
        }
    }
}

#[test]
fn a_password_file_made_for_openssl_serves_both() {
    let dir = scratch();
    let leaf = self_signed(dir.path(), "api.example.test");
    let password_file = dir.join("pw.txt");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let out_file = dir.join("api.p12");
    let out = certfleet_with(
        &[
            "convert",
            arg(&leaf.merged()),
            "--to",
            "pkcs12",
            "--password",
            &format!("file:{}", arg(&password_file)),
            "--out",
            arg(&out_file),
        ],
        &[],
        None,
    );
    assert_ok(&out);
    let dumped = ossl_ok(&format!(
        "pkcs12 -in {} -passin file:{} -nokeys",
        out_file.display(),
        password_file.display()
    ));
    assert!(dumped.contains("BEGIN CERTIFICATE"), "{dumped}");

    // openssl writes a store under env:, certfleet opens it with env:.
    let theirs = dir.join("theirs.p12");
    let made = Command::new("openssl")
        .args([
            "pkcs12",
            "-export",
            "-inkey",
            arg(&leaf.key()),
            "-in",
            arg(&leaf.crt()),
            "-passout",
            "env:THEIR_PW",
            "-out",
            arg(&theirs),
        ])
        .env("THEIR_PW", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("failed to start openssl");
    assert_ok(&made);
    let pem = dir.join("theirs.pem");
    let out = certfleet_with(
        &[
            "convert",
            arg(&theirs),
            "--in-password",
            "env:THEIR_PW",
            "--to",
            "merged",
            "--out",
            arg(&pem),
        ],
        &[("THEIR_PW", PASSWORD)],
        None,
    );
    assert_ok(&out);
    assert!(std::fs::read_to_string(&pem)
        .unwrap()
        .contains("PRIVATE KEY"));
}

#[test]
fn an_unreadable_source_is_named_and_nothing_is_written() {
    let dir = TempDir::new();
    let leaf = self_signed(dir.path(), "web.example.test");
    let store = dir.join("new.p12");

    let out = import_key(
        &store,
        "env:CERTFLEET_E2E_SURELY_UNSET",
        &leaf.key(),
        &leaf.crt(),
        &[],
        None,
    );
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains(
            "--password env:CERTFLEET_E2E_SURELY_UNSET: variable CERTFLEET_E2E_SURELY_UNSET is not set"
        ),
        "{}",
        describe(&out)
    );
    assert!(!store.exists(), "nothing may be written");

    let missing = dir.join("no-such-file");
    let out = import_key(
        &store,
        &format!("file:{}", arg(&missing)),
        &leaf.key(),
        &leaf.crt(),
        &[],
        None,
    );
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&format!("--password file:{}: cannot read", arg(&missing))),
        "{}",
        describe(&out)
    );
    assert!(!store.exists(), "nothing may be written");

    // A password change whose new password cannot be read leaves the store as it was,
    // and the error carries neither password.
    assert_ok(&import_key(
        &store,
        PASSWORD,
        &leaf.key(),
        &leaf.crt(),
        &[],
        None,
    ));
    // With no password at all and no terminal to ask on: the option is named.
    let out = certfleet_with(&["keystore", "list", arg(&store)], &[], Some(""));
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("--password is needed"),
        "{}",
        describe(&out)
    );

    let before = std::fs::read(&store).unwrap();
    let out = certfleet_with(
        &[
            "keystore",
            "passwd",
            arg(&store),
            "--password",
            PASSWORD,
            "--new-password",
            "env:CERTFLEET_E2E_SURELY_UNSET",
        ],
        &[],
        None,
    );
    assert!(!out.status.success(), "{}", describe(&out));
    let message = stderr(&out);
    assert!(
        message.contains("--new-password env:CERTFLEET_E2E_SURELY_UNSET: variable"),
        "{message}"
    );
    assert!(!message.contains(PASSWORD), "{message}");
    assert_eq!(std::fs::read(&store).unwrap(), before);

    // Standard input serves one option only.
    let out = certfleet_with(
        &[
            "keystore",
            "passwd",
            arg(&store),
            "--password",
            "-",
            "--new-password",
            "-",
        ],
        &[],
        Some("S3cret-store.pw\nN3w-pass.word\n"),
    );
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("--new-password -: standard input is already read"),
        "{}",
        describe(&out)
    );
    assert_eq!(std::fs::read(&store).unwrap(), before);
}

#[test]
fn a_crypt_value_sealed_for_one_field_does_not_open_in_another() {
    let dir = TempDir::new();
    let data = dir.join("data");
    let sealed = certfleet_with(
        &[
            "encrypt",
            "--data-dir",
            arg(&data),
            "--for",
            "route.basic_auth_password",
            "env:GATEWAY_PW",
        ],
        &[("GATEWAY_PW", "Gw-pass.1")],
        None,
    );
    assert_ok(&sealed);
    let sealed = stdout(&sealed).trim().to_owned();
    assert!(sealed.starts_with("CRYPT:") && !sealed.contains("Gw-pass"));

    let opened = certfleet_with(
        &[
            "decrypt",
            "--data-dir",
            arg(&data),
            "--for",
            "route.basic_auth_password",
            &sealed,
        ],
        &[],
        None,
    );
    assert_ok(&opened);
    assert_eq!(stdout(&opened).trim(), "Gw-pass.1");

    let moved = certfleet_with(
        &[
            "decrypt",
            "--data-dir",
            arg(&data),
            "--for",
            "route.upstream_trust_password",
            &sealed,
        ],
        &[],
        None,
    );
    assert!(!moved.status.success(), "{}", describe(&moved));
    let message = stderr(&moved);
    assert!(
        message.contains(
            "sealed for route.basic_auth_password, not for route.upstream_trust_password"
        ),
        "{message}"
    );
    assert!(!message.contains("Gw-pass"), "{message}");
}

/// Runs `command` (one shell line) on a pseudo-terminal made by util-linux's `script`,
/// with `typed` as what the user types.
fn on_terminal(command: &str, typed: &str) -> Output {
    let mut child = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start script (util-linux)");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    pipe.write_all(typed.as_bytes())
        .expect("typing into script");
    drop(pipe);
    child.wait_with_output().expect("waiting for script")
}

#[test]
fn passwords_left_out_are_asked_for_on_a_terminal() {
    let dir = scratch();
    let leaf = self_signed(dir.path(), "web.example.test");
    let store = dir.join("web.p12");
    assert_ok(&import_key(
        &store,
        PASSWORD,
        &leaf.key(),
        &leaf.crt(),
        &[],
        None,
    ));
    let binary = env!("CARGO_BIN_EXE_certfleet");

    // The store password left out, the new one given as `--new-password` alone: both are
    // asked for, the new one twice.
    let out = on_terminal(
        &format!("{binary} keystore passwd {} --new-password", arg(&store)),
        &format!("{PASSWORD}\nN3w-store.pw\nN3w-store.pw\n"),
    );
    assert_ok(&out);
    let screen = stdout(&out);
    assert!(screen.contains("--password: "), "{}", describe(&out));
    assert!(
        screen.contains("--new-password (again): "),
        "{}",
        describe(&out)
    );
    let dumped = ossl_ok(&format!(
        "pkcs12 -in {} -passin pass:N3w-store.pw -nokeys",
        store.display()
    ));
    assert!(dumped.contains("BEGIN CERTIFICATE"), "{dumped}");

    // Two different entries of a new password change nothing.
    let before = std::fs::read(&store).unwrap();
    let out = on_terminal(
        &format!(
            "{binary} keystore passwd {} --password pass:N3w-store.pw --new-password",
            arg(&store)
        ),
        "Other-pw.1\nOther-pw.2\n",
    );
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stdout(&out).contains("--new-password: the two entries differ"),
        "{}",
        describe(&out)
    );
    assert_eq!(std::fs::read(&store).unwrap(), before);
}
