//! What `plan` and `apply` refuse before writing anything: a model that other users can
//! change (its reload lines are commands), a file at an output path that certfleet did
//! not write (until `--adopt`), a path that leaves `--root` through a symbolic link; and
//! the modes of what apply creates whatever the umask.

use super::{changes, snapshot};
use crate::support::run::{arg, certfleet, describe, stdout_json, TempDir};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MODEL: &str = "[platform]\nname = \"safe\"\nca = \"internal\"\nkey = \"ecdsa-p256\"\n\n\
                     [[node]]\nname = \"n1\"\nfqdn = \"n1.corp.example\"\n\n\
                     [[service]]\nname = \"api\"\nnode = \"n1\"\nusage = \"server\"\n\n\
                     [[service.output]]\nformat = \"pem-pair\"\npath = \"/srv/api/tls\"\n";

fn write_model(dir: &Path, mode: u32) -> PathBuf {
    let path = dir.join("model.toml");
    std::fs::write(&path, MODEL).unwrap();
    chmod(&path, mode);
    path
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn on_root(command: &str, model: &Path, root: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        command,
        "--model",
        arg(model),
        "--root",
        arg(root),
        "--json",
    ];
    args.extend_from_slice(extra);
    certfleet(&args)
}

fn refused_naming(out: &Output, path: &Path, what: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", describe(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&path.display().to_string()) && stderr.contains(what),
        "the error should name {} and say '{what}'\n{}",
        path.display(),
        describe(out)
    );
}

#[test]
fn a_model_others_can_change_is_refused_before_anything_is_written() {
    let dir = TempDir::new();
    let models = dir.join("models");
    std::fs::create_dir(&models).unwrap();
    let root = dir.join("root");
    let model = write_model(&models, 0o666);
    for command in ["plan", "apply"] {
        let out = on_root(command, &model, &root, &[]);
        refused_naming(&out, &model, "writable by other users");
        assert!(!root.exists(), "{command} wrote under the root");
    }
    chmod(&model, 0o644);
    chmod(&models, 0o777);
    for command in ["plan", "apply"] {
        let out = on_root(command, &model, &root, &[]);
        refused_naming(&out, &models, "without the sticky bit");
        assert!(!root.exists(), "{command} wrote under the root");
    }
    // A shared directory with the sticky bit (like /tmp) is fine.
    chmod(&models, 0o1777);
    let out = on_root("apply", &model, &root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    chmod(&models, 0o755);
}

#[test]
fn a_file_certfleet_did_not_write_is_left_alone_until_adopted() {
    let dir = TempDir::new();
    let root = dir.join("root");
    let model = write_model(dir.path(), 0o644);
    let theirs = root.join("srv/api/tls.crt");
    std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    std::fs::write(&theirs, b"someone else's certificate\n").unwrap();
    let before = snapshot(&root);

    let plan = stdout_json(&on_root("plan", &model, &root, &[]));
    assert_eq!(
        plan["unrecorded_files"],
        serde_json::json!([theirs.display().to_string()]),
        "{plan:#}"
    );
    assert!(
        changes(&plan).iter().any(|c| c["reason"]
            .as_str()
            .is_some_and(|r| r.contains("was not written by certfleet"))),
        "{plan:#}"
    );

    let refused = on_root("apply", &model, &root, &[]);
    refused_naming(&refused, &theirs, "--adopt");
    assert_eq!(
        std::fs::read(&theirs).unwrap(),
        b"someone else's certificate\n"
    );
    // Nothing else either: no key beside it, no CA, no state.
    assert_eq!(
        snapshot(&root).keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    assert!(!root.join(".certfleet").exists() && !root.join("ca").exists());

    let adopted = on_root("apply", &model, &root, &["--adopt"]);
    assert_eq!(adopted.status.code(), Some(0), "{}", describe(&adopted));
    let report = stdout_json(&adopted);
    assert!(
        changes(&report).iter().any(|c| c["reason"]
            .as_str()
            .is_some_and(|r| r.contains("taken over (--adopt)"))),
        "{report:#}"
    );
    assert!(std::fs::read_to_string(&theirs)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    // From now on the file is certfleet's: plan is empty, apply needs no flag.
    let plan = stdout_json(&on_root("plan", &model, &root, &[]));
    assert!(changes(&plan).is_empty(), "{plan:#}");
    std::fs::remove_file(root.join("srv/api/tls.key")).unwrap();
    let again = on_root("apply", &model, &root, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
}

#[test]
fn a_symbolic_link_out_of_the_root_is_refused() {
    let dir = TempDir::new();
    let root = dir.join("root");
    let outside = dir.join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let model = write_model(dir.path(), 0o644);
    std::os::unix::fs::symlink(&outside, root.join("srv")).unwrap();
    for command in ["plan", "apply"] {
        let out = on_root(command, &model, &root, &[]);
        refused_naming(&out, &root.join("srv/api/tls.crt"), "symbolic link");
        assert!(
            snapshot(&outside).is_empty(),
            "{command} wrote outside the root"
        );
    }
    // The state directory too.
    std::fs::remove_file(root.join("srv")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join(".certfleet")).unwrap();
    let out = on_root("apply", &model, &root, &[]);
    refused_naming(&out, &root.join(".certfleet/safe"), "symbolic link");
    assert!(snapshot(&outside).is_empty() && std::fs::read_dir(&outside).unwrap().count() == 0);
    assert!(!root.join("srv").exists());
}

#[test]
fn directories_apply_creates_are_private_whatever_the_umask() {
    let dir = TempDir::new();
    let root = dir.join("root");
    std::fs::create_dir(&root).unwrap();
    let model = write_model(dir.path(), 0o644);
    let out = Command::new("sh")
        .args([
            "-c",
            "umask 000; exec \"$0\" apply --model \"$1\" --root \"$2\"",
            env!("CARGO_BIN_EXE_certfleet"),
            arg(&model),
            arg(&root),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    for made in ["srv", "srv/api", "ca", ".certfleet", ".certfleet/safe"] {
        assert_eq!(mode_of(&root.join(made)), 0o700, "{made}");
    }
    assert_eq!(mode_of(&root.join("srv/api/tls.key")), 0o600);
    assert_eq!(mode_of(&root.join("srv/api/tls.crt")), 0o644);
    // The root existed before: its mode is left as it was.
    assert_ne!(mode_of(&root), 0);
}
