//! A root rotation, phase by phase: plan's text and JSON, and openssl's view of the
//! truststores and certificates after each apply.

use super::{pem_cert, pem_certs, remaining, rotation, verifies, Lab};
use std::path::PathBuf;

#[test]
fn a_root_rotation_moves_every_output_to_the_new_ca_in_three_applies() {
    let lab = Lab::new();
    let old_root = pem_cert(&lab.ca("root.crt"));
    let old_issuing = pem_cert(&lab.ca("intermediate.crt"));
    let data_trust = lab.file("/srv/data/trust.pem");
    let rec_trust = lab.file("/srv/rec/trust.pem");
    let data_crt = lab.file("/srv/data/tls.crt");
    let rec_crt = lab.file("/srv/rec/tls.crt");

    // rotate: the new CA beside the old, no output touched.
    let before = std::fs::read(&rec_trust).unwrap();
    let started = lab.json(&["rotate", "ca"], 0);
    assert_eq!(started["kind"], "root", "{started:#}");
    assert_eq!(started["phase"], "trust");
    assert_eq!(started["phase_number"], 1);
    assert_eq!(started["phases"], 3);
    assert_eq!(started["rollback_possible"], true);
    assert_eq!(std::fs::read(&rec_trust).unwrap(), before);
    let new_root = pem_cert(&lab.ca("next/root.crt"));
    let new_issuing = pem_cert(&lab.ca("next/intermediate.crt"));
    assert_ne!(new_root, old_root);
    assert!(lab.state().join("rotation.json").exists());

    // A second rotation is refused, naming the one that runs.
    let again = lab.run(&["rotate", "ca"]);
    assert_ne!(again.status.code(), Some(0));
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        said.contains("a root rotation is already running, in phase 1 of 3 (trust)"),
        "{said}"
    );

    // Phase 1 in plan: the truststores are what is left, per node.
    let text = lab.plan_text();
    assert!(
        text.starts_with("Rotation: root CA rotation, phase 1 of 3 (trust)"),
        "{text}"
    );
    assert!(text.contains("node n1, service data:"), "{text}");
    let plan = lab.plan();
    let r = rotation(&plan);
    assert_eq!(
        (r["phase"].as_str(), r["phase_number"].as_u64()),
        (Some("trust"), Some(1))
    );
    assert!(r["next"].as_str().unwrap().contains("truststores"), "{r:#}");
    let left = remaining(r, "n1", "data");
    assert!(
        left.iter().any(|p| p.ends_with("/srv/data/trust.pem")),
        "{r:#}"
    );
    assert!(!left.iter().any(|p| p.ends_with("/srv/data/tls")), "{r:#}");
    assert!(remaining(r, "n2", "rec")
        .iter()
        .any(|p| p.ends_with("/srv/rec/trust.pem")));

    // Apply 1: both CAs trusted, certificates still from the old one.
    let applied = lab.apply_ok();
    assert_eq!(rotation(&applied)["phase"], "reissue", "{applied:#}");
    for trust in [&data_trust, &rec_trust] {
        let held = pem_certs(trust);
        for ca in [&old_root, &old_issuing, &new_root, &new_issuing] {
            assert!(held.contains(ca), "{} lacks a CA", trust.display());
        }
    }
    assert_eq!(pem_certs(&data_crt)[1], old_issuing);
    verifies(&rec_trust, &data_crt).unwrap();
    verifies(&data_trust, &rec_crt).unwrap();

    // Phase 2 in plan: the certificates are what is left.
    let plan = lab.plan();
    let r = rotation(&plan);
    assert_eq!(
        (r["phase"].as_str(), r["phase_number"].as_u64()),
        (Some("reissue"), Some(2))
    );
    assert!(
        remaining(r, "n1", "data")
            .iter()
            .any(|p| p.ends_with("/srv/data/tls")),
        "{r:#}"
    );
    assert!(
        remaining(r, "n2", "rec")
            .iter()
            .any(|p| p.ends_with("/srv/rec/tls")),
        "{r:#}"
    );
    assert!(
        remaining(r, "n2", "gw").is_empty(),
        "self-signed gw stays: {r:#}"
    );
    assert!(lab.plan_text().contains("phase 2 of 3 (reissue)"));

    // Apply 2: certificates from the new CA, verified by the truststores that hold both.
    let applied = lab.apply_ok();
    assert_eq!(rotation(&applied)["phase"], "retire", "{applied:#}");
    assert_eq!(rotation(&applied)["rollback_possible"], false);
    for (leaf, trust) in [(&data_crt, &rec_trust), (&rec_crt, &data_trust)] {
        assert_eq!(pem_certs(leaf)[1], new_issuing, "{}", leaf.display());
        verifies(trust, leaf).unwrap();
        verifies(&lab.ca("next/root.crt"), leaf).unwrap();
        assert!(
            verifies(&lab.ca("root.crt"), leaf).is_err(),
            "still under the old root"
        );
    }

    // In phase 3 a rollback is refused, saying why.
    let back = lab.run(&["rotate", "ca", "--rollback"]);
    assert_ne!(back.status.code(), Some(0));
    let said = String::from_utf8_lossy(&back.stderr);
    assert!(
        said.contains("old CA has started leaving truststores"),
        "{said}"
    );
    let plan = lab.plan();
    assert_eq!(rotation(&plan)["phase_number"], 3);
    assert!(remaining(rotation(&plan), "n1", "data")
        .iter()
        .any(|p| p.ends_with("/srv/data/trust.pem")));

    // Apply 3: the old CA is gone from every output and retired in the CA directory.
    let applied = lab.apply_ok();
    assert!(applied.get("rotation").is_none(), "{applied:#}");
    assert_eq!(pem_cert(&lab.ca("root.crt")), new_root);
    assert_eq!(pem_cert(&lab.ca("intermediate.crt")), new_issuing);
    assert!(!lab.ca("next").exists());
    let retired: Vec<PathBuf> = std::fs::read_dir(lab.ca("retired"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(pem_cert(&retired[0].join("root.crt")), old_root);
    assert!(retired[0].join("root.key").exists());
    let old_root_file = retired[0].join("root.crt");
    for pem in [
        "/srv/data/trust.pem",
        "/srv/rec/trust.pem",
        "/srv/data/tls.crt",
        "/srv/rec/tls.crt",
    ] {
        let held = pem_certs(&lab.file(pem));
        assert!(
            !held.contains(&old_root) && !held.contains(&old_issuing),
            "{pem}"
        );
    }
    for (leaf, trust) in [(&data_crt, &rec_trust), (&rec_crt, &data_trust)] {
        verifies(trust, leaf).unwrap();
        assert!(verifies(&old_root_file, leaf).is_err());
    }
    let archived: Vec<PathBuf> = std::fs::read_dir(lab.state().join("rotations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(archived.len(), 1);
    assert!(!lab.state().join("rotation.json").exists());
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&archived[0]).unwrap()).unwrap();
    assert_eq!(record["history"].as_array().unwrap().len(), 4, "{record:#}");

    // Done: plan has nothing to say.
    let plan = lab.plan();
    assert!(plan.get("rotation").is_none());
    assert!(plan["changes"].as_array().unwrap().is_empty(), "{plan:#}");
    assert!(!lab.plan_text().contains("Rotation"));
}
