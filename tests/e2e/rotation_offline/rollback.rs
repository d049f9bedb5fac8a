//! A failed reload holds the phase; a rollback from phase 2 leads back to the old CA.

use super::{pem_cert, pem_certs, rotation, verifies, Lab};
use std::path::PathBuf;

/// The services whose reload is pending (failed or not run), as plan lists them.
fn pending_reloads(plan: &serde_json::Value) -> Vec<String> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "reload")
        .filter(|c| c["reason"].as_str().unwrap().contains("pending"))
        .map(|c| c["service"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_failed_reload_holds_phase_two_until_an_apply_succeeds() {
    let lab = Lab::new();
    lab.json(&["rotate", "ca"], 0);
    lab.apply_ok();

    lab.fail_data_reload(true);
    let failed = lab.json(&["apply", "--reload"], 1);
    assert_eq!(rotation(&failed)["phase"], "reissue", "{failed:#}");
    let plan = lab.plan();
    assert_eq!(rotation(&plan)["phase"], "reissue", "{plan:#}");
    assert_eq!(pending_reloads(&plan), ["data"]);
    assert!(lab.plan_text().contains("phase 2 of 3 (reissue)"));
    // Still failing: still held.
    let failed = lab.json(&["apply", "--reload"], 1);
    assert_eq!(rotation(&failed)["phase"], "reissue");

    lab.fail_data_reload(false);
    let fixed = lab.apply_ok();
    assert_eq!(rotation(&fixed)["phase"], "retire", "{fixed:#}");
    assert!(pending_reloads(&lab.plan()).is_empty());
}

#[test]
fn a_rollback_from_phase_two_returns_every_output_to_the_old_ca() {
    let lab = Lab::new();
    let old_root = pem_cert(&lab.ca("root.crt"));
    let old_issuing = pem_cert(&lab.ca("intermediate.crt"));
    lab.json(&["rotate", "ca"], 0);
    let new_root = pem_cert(&lab.ca("next/root.crt"));
    let new_issuing = pem_cert(&lab.ca("next/intermediate.crt"));
    lab.apply_ok();
    // Phase 2's apply writes the new certificates, but data's reload fails: still phase 2.
    lab.fail_data_reload(true);
    lab.json(&["apply", "--reload"], 1);
    lab.fail_data_reload(false);
    let data_crt = lab.file("/srv/data/tls.crt");
    assert_eq!(pem_certs(&data_crt)[1], new_issuing);

    let back = lab.json(&["rotate", "ca", "--rollback"], 0);
    assert_eq!(back["phase"], "rollback-reissue", "{back:#}");
    assert_eq!(back["phase_number"], 2);
    assert_eq!(back["rollback_possible"], false);
    let text = lab.plan_text();
    assert!(
        text.starts_with("Rotation: root CA rotation, phase 2 of 3 (rollback-reissue)"),
        "{text}"
    );

    // The certificates go back to the old CA while both are trusted...
    let applied = lab.apply_ok();
    assert_eq!(rotation(&applied)["phase"], "rollback-trust", "{applied:#}");
    assert_eq!(rotation(&applied)["phase_number"], 1);
    for leaf in ["/srv/data/tls.crt", "/srv/rec/tls.crt"] {
        assert_eq!(pem_certs(&lab.file(leaf))[1], old_issuing, "{leaf}");
    }
    verifies(&lab.file("/srv/rec/trust.pem"), &data_crt).unwrap();
    assert!(pem_certs(&lab.file("/srv/rec/trust.pem")).contains(&new_root));

    // ...then the new CA leaves the truststores and is put aside.
    let applied = lab.apply_ok();
    assert!(applied.get("rotation").is_none(), "{applied:#}");
    for pem in [
        "/srv/data/trust.pem",
        "/srv/rec/trust.pem",
        "/srv/data/tls.crt",
        "/srv/rec/tls.crt",
    ] {
        let held = pem_certs(&lab.file(pem));
        assert!(
            !held.contains(&new_root) && !held.contains(&new_issuing),
            "{pem}"
        );
    }
    for (leaf, trust) in [
        ("/srv/data/tls.crt", "/srv/rec/trust.pem"),
        ("/srv/rec/tls.crt", "/srv/data/trust.pem"),
    ] {
        verifies(&lab.file(trust), &lab.file(leaf)).unwrap();
        verifies(&lab.ca("root.crt"), &lab.file(leaf)).unwrap();
    }
    assert_eq!(pem_cert(&lab.ca("root.crt")), old_root);
    assert!(!lab.ca("next").exists());
    let abandoned: Vec<PathBuf> = std::fs::read_dir(lab.ca("abandoned"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(abandoned.len(), 1);
    assert_eq!(pem_cert(&abandoned[0].join("root.crt")), new_root);
    assert!(lab.plan()["changes"].as_array().unwrap().is_empty());

    // Nothing runs any more: a rollback has nothing to roll back.
    let none = lab.run(&["rotate", "ca", "--rollback"]);
    assert_ne!(none.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no rotation is running"));
}
