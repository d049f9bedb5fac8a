//! Starting and rolling back rotations, and what is refused, on a model applied once.

use super::*;
use crate::rotation::record::Record;
use crate::run::{apply, Reloads, Target};
use std::path::PathBuf;

const MODEL: &str = "[platform]\nname = \"t\"\nkey = \"ecdsa-p256\"\n\n\
    [[node]]\nname = \"n\"\nfqdn = \"n.example.test\"\n\n\
    [[service]]\nname = \"data\"\nnode = \"n\"\n\n\
    [[service.output]]\nformat = \"pem-pair\"\npath = \"/opt/data/tls\"\n";

/// A scratch directory with the model applied under `root/` (never the real paths).
struct Lab {
    dir: tempfile::TempDir,
    model: PathBuf,
    root: PathBuf,
}

impl Lab {
    fn new(model: &str) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(&path, model).unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(&root).unwrap();
        let lab = Lab {
            dir,
            model: path,
            root,
        };
        apply(&lab.target(), None, Reloads::Skip).unwrap();
        lab
    }

    fn target(&self) -> Target<'_> {
        Target {
            model: &self.model,
            root: Some(&self.root),
            cwd: self.dir.path(),
            master_key: None,
            adopt: false,
        }
    }

    fn state(&self) -> PathBuf {
        self.root.join(".certfleet/t")
    }
}

fn refused(result: Result<RotationJson>) -> String {
    format!("{:#}", result.expect_err("refused"))
}

#[test]
fn one_rotation_at_a_time_and_rollbacks_only_where_they_can_go_back() {
    let lab = Lab::new(MODEL);
    let t = lab.target();
    let started = start_ca(&t, CaRotation::default()).unwrap();
    assert_eq!(
        (started.kind.as_str(), started.phase.as_str()),
        ("root", "trust")
    );
    assert!(lab.root.join("ca/next/root.key").exists());

    let again = refused(start_ca(&t, CaRotation::default()));
    assert!(
        again.contains("a root rotation is already running, in phase 1 of 3 (trust)"),
        "{again}"
    );
    assert!(again.contains("rotation.json"), "{again}");
    let keys = refused(start_keys(&t, &KeysRotation::default()));
    assert!(keys.contains("already running"), "{keys}");
    let wrong = refused(rollback(&t, true));
    assert!(
        wrong.contains("is a root rotation; roll it back with certfleet rotate ca --rollback"),
        "{wrong}"
    );

    // In retire the old CA has started leaving truststores.
    let mut record = Record::load(&lab.state()).unwrap().unwrap();
    record.phase = Phase::Retire;
    record.save(&lab.state()).unwrap();
    let late = refused(rollback(&t, false));
    assert!(
        late.contains("old CA has started leaving truststores; finish the rotation"),
        "{late}"
    );

    record.phase = Phase::Reissue;
    record.save(&lab.state()).unwrap();
    let back = rollback(&t, false).unwrap();
    assert_eq!(
        (back.phase.as_str(), back.phase_number),
        ("rollback-reissue", 2)
    );
    let twice = refused(rollback(&t, false));
    assert!(twice.contains("already rolling back"), "{twice}");
    let history = Record::load(&lab.state()).unwrap().unwrap().history;
    assert_eq!(
        history.last().unwrap().what,
        "rollback asked in phase reissue"
    );
}

#[test]
fn a_keys_rotation_names_its_services_and_keeps_new_keys() {
    let lab = Lab::new(MODEL);
    let t = lab.target();
    let unknown = KeysRotation {
        services: vec!["nope".into()],
        now: false,
    };
    assert!(refused(start_keys(&t, &unknown)).contains("--service nope"));
    let how = KeysRotation {
        services: vec!["data".into()],
        now: true,
    };
    let started = start_keys(&t, &how).unwrap();
    assert_eq!(started.kind, "keys");
    let record = Record::load(&lab.state()).unwrap().unwrap();
    assert!(record.now && record.keys_before.contains_key("data"));
    let mut record = record;
    record.phase = Phase::Reissue;
    record.save(&lab.state()).unwrap();
    let message = refused(rollback(&t, true));
    assert!(message.contains("cannot come back"), "{message}");
}

#[test]
fn a_platform_without_an_internal_ca_has_none_to_rotate() {
    let lab = Lab::new(&MODEL.replace(
        "node = \"n\"\n\n[[service.output]]",
        "node = \"n\"\nca = \"self-signed\"\n\n[[service.output]]",
    ));
    let message = refused(start_ca(&lab.target(), CaRotation::default()));
    assert!(
        message.contains("m.toml") && message.contains("no internal CA to rotate"),
        "{message}"
    );
    assert!(!lab.state().join("rotation.json").exists());
}
