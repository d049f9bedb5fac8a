//! Seed 001, "To change the keystore password": the administrator runs `keytool
//! -storepasswd` and then types the new password into commands and into
//! application.yaml. The keystore passwords certfleet generates must work there as
//! they are, unquoted: 40 of them (from one `apply`, passwords.json) each round-trip
//! through a POSIX shell command line, a YAML file read by PyYAML, and keytool's
//! `-storepass`, and use only characters cmd.exe and PowerShell take literally.

use crate::support::run::{arg, certfleet, describe, TempDir};
use crate::support::venv::venv_tool;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const KEYSTORES: usize = 40;

/// A model with one service writing `KEYSTORES` JKS keystores, none with a password.
fn model() -> String {
    let mut model = String::from(
        "[platform]\nname = \"pwcheck\"\nca = \"internal\"\nca_dir = \"ca\"\n\
         key = \"ecdsa-p256\"\ndays = 365\n\n\
         [[node]]\nname = \"app01\"\nfqdn = \"app01.pw.test\"\n\n\
         [[service]]\nname = \"app\"\nkind = \"jetty\"\nnode = \"app01\"\nusage = \"server\"\n",
    );
    for i in 0..KEYSTORES {
        write!(
            model,
            "\n[[service.output]]\nformat = \"jks\"\npath = \"/etc/app/ks-{i:02}.jks\"\nalias = \"app\"\n"
        )
        .unwrap();
    }
    model
}

/// The first file named `name` under `dir`.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// `sh -c LINE`: its standard output, which must come with success.
fn shell(line: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", line])
        .stdin(Stdio::null())
        .output()
        .expect("failed to start sh");
    assert!(out.status.success(), "sh -c {line:?}: {}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn to_change_the_keystore_password_generated_passwords_work_unquoted() {
    let dir = TempDir::new();
    let root = dir.join("root");
    std::fs::create_dir(&root).unwrap();
    let model_file = dir.join("model.toml");
    std::fs::write(&model_file, model()).unwrap();
    let out = certfleet(&[
        "apply",
        "--model",
        arg(&model_file),
        "--root",
        arg(&root),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));

    let passwords_file = find(&root, "passwords.json").expect("apply wrote passwords.json");
    let passwords: BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(&passwords_file).unwrap()).unwrap();
    assert_eq!(passwords.len(), KEYSTORES, "{passwords:?}");

    let mut yaml = String::new();
    for (i, (keystore, password)) in passwords.iter().enumerate() {
        // cmd.exe, PowerShell, YAML and shells all read these literally, anywhere.
        assert!(
            password
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-._@#".contains(&b)),
            "{password:?} has a character some shell or file format would interpret"
        );
        assert!(
            !password.starts_with(['@', '#', '-']),
            "{password:?} begins with a character read as syntax"
        );
        let check = certfleet(&["secret", "check", &format!("pass:{password}")]);
        assert!(check.status.success(), "{}", describe(&check));

        // A POSIX shell command line.
        assert_eq!(
            shell(&format!("printf '%s\\n' {password}")),
            format!("{password}\n")
        );
        assert_eq!(shell(&format!("echo {password}")), format!("{password}\n"));

        // keytool, as in the manual's keytool commands.
        let listing = shell(&format!(
            "keytool -list -keystore {} -storepass {password}",
            Path::new(keystore).display()
        ));
        assert!(listing.contains("app"), "{keystore}: {listing}");

        writeln!(yaml, "keystore_{i:02}:\n  jksPassword: {password}").unwrap();
    }

    // application.yaml-style settings, read by PyYAML.
    let yaml_file = dir.join("application.yaml");
    std::fs::write(&yaml_file, &yaml).unwrap();
    let python = venv_tool("PyYAML", "python3");
    let read = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml\n\
             doc = yaml.safe_load(open(sys.argv[1]))\n\
             print(json.dumps([doc[k]['jksPassword'] for k in sorted(doc)]))",
            arg(&yaml_file),
        ])
        .output()
        .expect("failed to start python3");
    assert!(read.status.success(), "{}", describe(&read));
    let parsed: Vec<serde_json::Value> = serde_json::from_slice(&read.stdout).unwrap();
    let expected: Vec<serde_json::Value> = passwords
        .values()
        .map(|p| serde_json::Value::String(p.clone()))
        .collect();
    assert_eq!(
        parsed, expected,
        "YAML read the passwords otherwise:\n{yaml}"
    );
}
