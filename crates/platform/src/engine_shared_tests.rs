//! Tests of applying a certificate shared by several nodes: one key and one certificate
//! in every node's files, a reload naming the node once per node, nothing to do on the
//! next apply.

use super::*;
use certfleet_pki::certs::parse_single_certificate;
use certfleet_pki::keys::PrivateKey;

const MODEL: &str = r#"
[platform]
name = "t"
key = "ecdsa-p256"

[[node]]
name = "a"
fqdn = "a.example.test"

[[node]]
name = "b"
fqdn = "b.example.test"

[[service]]
name = "db"
nodes = ["a", "b"]
shared_certificate = true
reload = "restart db on {node}"

[[service.output]]
format = "pem-pair"
path = "/opt/{node}/db/db"

[[service.output]]
format = "pkcs12"
path = "/opt/{node}/db/db.p12"
alias = "db"
"#;

fn load_ca(dir: &Path) -> std::result::Result<Authority, String> {
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| e.to_string());
    let root = parse_single_certificate(&read("root.crt")?).map_err(|e| e.to_string())?;
    let cert = parse_single_certificate(&read("intermediate.crt")?).map_err(|e| e.to_string())?;
    let key = PrivateKey::from_bytes(&read("intermediate.key")?).map_err(|e| e.to_string())?;
    Authority::new(cert, key, vec![root]).map_err(|e| e.to_string())
}

fn apply(dir: &Path) -> Evaluation {
    std::fs::write(dir.join("m.toml"), MODEL).unwrap();
    let root = dir.join("root");
    let opts = Options {
        model_path: &dir.join("m.toml"),
        root: Some(&root),
        cwd: dir,
        master_key: None,
        now: OffsetDateTime::now_utc(),
        load_ca: &load_ca,
        progress: None,
        adopt: false,
    };
    let mut eval = evaluate(&opts, Mode::Apply).unwrap();
    for f in std::mem::take(&mut eval.files) {
        std::fs::create_dir_all(f.path.parent().unwrap()).unwrap();
        std::fs::write(&f.path, f.contents.as_slice()).unwrap();
        if f.secret {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f.path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    let done: Vec<String> = eval.reloads.iter().map(|r| r.service.clone()).collect();
    crate::state::record_reloads(&eval.state_file, &done).unwrap();
    eval
}

#[test]
fn every_node_gets_the_one_key_and_certificate_and_its_reload() {
    let dir = tempfile::tempdir().unwrap();
    let first = apply(dir.path());
    let file = |node: &str, name: &str| {
        std::fs::read(dir.path().join(format!("root/opt/{node}/db/{name}"))).unwrap()
    };
    assert_eq!(file("a", "db.key"), file("b", "db.key"), "one key");
    assert_eq!(file("a", "db.crt"), file("b", "db.crt"), "one certificate");
    assert!(!file("a", "db.p12").is_empty() && !file("b", "db.p12").is_empty());
    // The reload runs for both nodes, in order, as one command of the service.
    assert_eq!(first.reloads.len(), 1, "{:?}", first.reloads);
    assert_eq!(
        first.reloads[0].command,
        "( restart db on a ) && ( restart db on b )"
    );
    let report = &first.services[0];
    assert_eq!(report.nodes, ["a", "b"]);
    assert_eq!(report.outputs.len(), 4, "{:?}", report.outputs);

    let again = apply(dir.path());
    assert!(
        again.changes.is_empty() && again.reloads.is_empty(),
        "{:?}",
        again.changes
    );
}
