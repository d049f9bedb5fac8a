//! Seed 001, "To change the keystore password", step 2: the new keystore password is
//! encoded with Jetty's `Password` tool before it goes into the configuration. `certfleet
//! encrypt --jetty-obf` must print the same `OBF:` value as Jetty's own tool (Debian's
//! jetty9-util jar, run with the real JVM) for the manual's default password and for
//! passwords with spaces, punctuation and non-ASCII characters, whichever way the
//! password is given (value, `env:`, `file:`, standard input). After `apply`, the next
//! steps point at that form for a service's configuration, and the keystore password
//! `apply` generated encodes the same way.

use crate::support::run::{arg, assert_ok, certfleet, describe, stdout, TempDir};
use std::io::Write as _;
use std::process::{Command, Stdio};

/// Debian's jetty-util jar (package libjetty9-java), holding the `Password` tool.
const JETTY_UTIL_JAR: &str = "/usr/share/java/jetty9-util.jar";

const PASSWORDS: &[&str] = &[
    "storepwd",
    "a",
    "p@ss:w0rd!",
    "Str0ng+pass #with spaces",
    "quote\"back\\slash'$dollar",
    "é€x",
    "~\u{7f}日本",
];

/// The `OBF:` line Jetty's `Password` tool prints for `password`.
fn jetty_obf(password: &str) -> String {
    let out = Command::new("java")
        .args(["-cp", JETTY_UTIL_JAR])
        .arg("org.eclipse.jetty.util.security.Password")
        .args(["user", password])
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .expect("failed to start java");
    assert!(out.status.success(), "{}", describe(&out));
    // Jetty 9.4 prints its answer on standard error; look at both streams.
    let mut text = String::from_utf8(out.stdout.clone()).expect("Jetty prints UTF-8 here");
    text.push_str(std::str::from_utf8(&out.stderr).expect("Jetty prints UTF-8 here"));
    text.lines()
        .find(|line| line.starts_with("OBF:"))
        .unwrap_or_else(|| panic!("no OBF: line from Jetty\n{}", describe(&out)))
        .to_owned()
}

/// `certfleet encrypt --jetty-obf` with the secret given as `secret_arg`.
fn certfleet_obf(secret_arg: &str) -> String {
    let out = certfleet(&["encrypt", "--jetty-obf", secret_arg]);
    assert_ok(&out);
    stdout(&out).trim_end().to_owned()
}

#[test]
fn encode_the_new_keystore_password_like_jettys_password_tool() {
    for password in PASSWORDS {
        let expected = jetty_obf(password);
        assert_eq!(certfleet_obf(password), expected, "value {password:?}");
        assert_eq!(
            certfleet_obf(&format!("pass:{password}")),
            expected,
            "pass:{password:?}"
        );
    }
}

#[test]
fn encode_from_env_file_and_standard_input() {
    let password = "Str0ng+pass #with spaces";
    let expected = jetty_obf(password);
    let dir = TempDir::new();

    let out = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(["encrypt", "--jetty-obf", "env:JETTY_STORE_PW"])
        .env("JETTY_STORE_PW", password)
        .stdin(Stdio::null())
        .output()
        .expect("failed to start certfleet");
    assert_ok(&out);
    assert_eq!(stdout(&out).trim_end(), expected, "env:");

    let file = dir.join("store.pw");
    std::fs::write(&file, format!("{password}\n")).expect("write the password file");
    assert_eq!(
        certfleet_obf(&format!("file:{}", arg(&file))),
        expected,
        "file:"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(["encrypt", "--jetty-obf", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start certfleet");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write the password to certfleet");
    let out = child.wait_with_output().expect("wait for certfleet");
    assert_ok(&out);
    assert_eq!(stdout(&out).trim_end(), expected, "standard input");

    // No master key is involved: nothing is created in the default data directory.
    let out = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(["encrypt", "--jetty-obf", "storepwd"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("failed to start certfleet");
    assert_ok(&out);
    assert!(
        !dir.join("certfleet-data").exists(),
        "--jetty-obf created a data directory"
    );
}

/// A model with one Jetty service reading a generated JKS keystore.
const JETTY_MODEL: &str = "[platform]\nname = \"obf\"\nca = \"internal\"\nca_dir = \"ca\"\n\
    key = \"ecdsa-p256\"\ndays = 365\n\n\
    [[node]]\nname = \"rws01\"\nfqdn = \"rws01.obf.test\"\n\n\
    [[service]]\nname = \"rws\"\nkind = \"jetty\"\nnode = \"rws01\"\nusage = \"server\"\n\n\
    [[service.output]]\nformat = \"jks\"\npath = \"/etc/rws/keystore\"\nalias = \"jetty\"\n";

#[test]
fn encode_the_generated_keystore_password_for_jetty() {
    let dir = TempDir::new();
    let root = dir.join("root");
    std::fs::create_dir(&root).expect("create the root");
    let model = dir.join("model.toml");
    std::fs::write(&model, JETTY_MODEL).expect("write the model");
    let out = certfleet(&["apply", "--model", arg(&model), "--root", arg(&root)]);
    assert_ok(&out);

    // The next steps point at the form Jetty reads, not at certfleet's own CRYPT:.
    let report = stdout(&out);
    let passwords_section = report
        .split("4. Passwords")
        .nth(1)
        .unwrap_or_else(|| panic!("no Passwords section\n{}", describe(&out)));
    assert!(
        passwords_section.contains("certfleet encrypt --jetty-obf"),
        "{passwords_section}"
    );
    assert!(
        !passwords_section.contains("preferably as a CRYPT:"),
        "{passwords_section}"
    );

    let passwords_file = root.join(".certfleet/obf/passwords.json");
    let passwords: std::collections::BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(&passwords_file).expect("apply wrote passwords.json"),
    )
    .expect("passwords.json is a JSON object of path to password");
    let keystore = root.join("etc/rws/keystore");
    let password = passwords.get(arg(&keystore)).unwrap_or_else(|| {
        panic!(
            "no password for {} among {:?}",
            keystore.display(),
            passwords.keys()
        )
    });
    let file = dir.join("store.pw");
    std::fs::write(&file, format!("{password}\n")).expect("write the password file");
    assert_eq!(
        certfleet_obf(&format!("file:{}", arg(&file))),
        jetty_obf(password)
    );
}
