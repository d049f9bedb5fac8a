//! An output's `mode`, `owner` and `group`: apply writes its files with exactly that mode
//! and group (a file holding a key never readable by others), and an owner the system
//! does not know is refused before anything is written.

use crate::support::run::{arg, certfleet, describe, TempDir};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// A one-service model whose outputs set their access; `group` is the test's own group.
fn model(group: &str, owner_line: &str) -> String {
    format!(
        r#"[platform]
name = "shop"
ca = "internal"
ca_dir = "ca"

[[node]]
name = "web01"
fqdn = "web01.shop.example"

[[service]]
name = "web"
node = "web01"

[[service.output]]
format = "pem-pair"
path = "/srv/web/tls"
mode = "0640"
group = "{group}"
{owner_line}

[[service.output]]
format = "pem-trust"
path = "/srv/web/trust.pem"
mode = "0604"
"#
    )
}

fn apply(dir: &TempDir, text: &str) -> std::process::Output {
    let file = dir.join("model.toml");
    std::fs::write(&file, text).unwrap();
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    certfleet(&["apply", "--model", arg(&file), "--root", arg(&root)])
}

/// The name of the group the test runs as.
fn own_group() -> String {
    let out = std::process::Command::new("id")
        .arg("-gn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn outputs_get_the_mode_and_group_the_model_sets() {
    let dir = TempDir::new();
    let group = own_group();
    let out = apply(&dir, &model(&group, ""));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let root = dir.join("root");
    let gid = std::fs::metadata(&root).unwrap().gid();
    for (file, mode) in [
        ("srv/web/tls.crt", 0o640),
        ("srv/web/tls.key", 0o640),
        ("srv/web/trust.pem", 0o604),
    ] {
        let meta = std::fs::metadata(root.join(file)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "{file}");
        assert_eq!(meta.gid(), gid, "{file}");
    }
}

#[test]
fn an_unknown_owner_is_refused_before_anything_is_written() {
    let dir = TempDir::new();
    let out = apply(
        &dir,
        &model(&own_group(), "owner = \"no-such-user-certfleet\""),
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("owner 'no-such-user-certfleet': no such user"),
        "{stderr}"
    );
    assert!(!dir.join("root/srv/web/tls.key").exists());
    assert!(!dir.join("root/srv/web/trust.pem").exists());
}
