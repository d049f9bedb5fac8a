//! The other rotations: a new intermediate under the same root, a cross-signed root,
//! new keys for one service; and a platform without an internal CA.

use super::{pem_cert, pem_certs, rotation, verifies, Lab};
use crate::support::run::{arg, certfleet, TempDir};

#[test]
fn an_intermediate_rotation_keeps_the_root() {
    let lab = Lab::new();
    let root = pem_cert(&lab.ca("root.crt"));
    let old_issuing = pem_cert(&lab.ca("intermediate.crt"));
    let started = lab.json(&["rotate", "ca", "--intermediate"], 0);
    assert_eq!(started["kind"], "intermediate", "{started:#}");
    assert!(!lab.ca("next/root.key").exists());
    let new_issuing = pem_cert(&lab.ca("next/intermediate.crt"));
    for phase in ["reissue", "retire"] {
        assert_eq!(rotation(&lab.apply_ok())["phase"], phase);
    }
    let data_crt = lab.file("/srv/data/tls.crt");
    assert_eq!(pem_certs(&data_crt)[1], new_issuing);
    verifies(&lab.file("/srv/rec/trust.pem"), &data_crt).unwrap();
    assert!(lab.apply_ok().get("rotation").is_none());
    assert_eq!(pem_cert(&lab.ca("root.crt")), root);
    assert_eq!(pem_cert(&lab.ca("intermediate.crt")), new_issuing);
    let trust = pem_certs(&lab.file("/srv/rec/trust.pem"));
    assert!(trust.contains(&root) && !trust.contains(&old_issuing));
    verifies(&lab.ca("root.crt"), &data_crt).unwrap();
}

#[test]
fn a_cross_signed_rotation_delivers_chains_that_the_old_root_accepts() {
    let lab = Lab::new();
    let old_root = lab.dir.join("old-root.crt");
    std::fs::copy(lab.ca("root.crt"), &old_root).unwrap();
    lab.json(&["rotate", "ca", "--cross-sign"], 0);
    let cross = pem_cert(&lab.ca("next/cross.crt"));
    lab.apply_ok();
    let applied = lab.apply_ok();
    assert_eq!(rotation(&applied)["phase"], "retire");
    assert!(rotation(&applied)["next"]
        .as_str()
        .unwrap()
        .contains("new root alone"));
    // Phase 2: leaf and the new intermediate as signed by the old root, which a peer
    // knowing only the old root accepts, as does one knowing only the new root.
    let data_crt = lab.file("/srv/data/tls.crt");
    assert_eq!(&pem_certs(&data_crt)[1..], std::slice::from_ref(&cross));
    verifies(&old_root, &data_crt).unwrap();
    verifies(&lab.file("/srv/rec/trust.pem"), &data_crt).unwrap();
    // Phase 3: issued again under the new root alone.
    assert!(lab.apply_ok().get("rotation").is_none());
    assert!(!pem_certs(&data_crt).contains(&cross));
    verifies(&lab.file("/srv/rec/trust.pem"), &data_crt).unwrap();
    verifies(&lab.ca("root.crt"), &data_crt).unwrap();
    assert!(verifies(&old_root, &data_crt).is_err());
}

#[test]
fn a_keys_rotation_gives_one_service_a_new_key() {
    let lab = Lab::new();
    let data_key = std::fs::read(lab.file("/srv/data/tls.key")).unwrap();
    let rec_key = std::fs::read(lab.file("/srv/rec/tls.key")).unwrap();
    let root = pem_cert(&lab.ca("root.crt"));
    let started = lab.json(&["rotate", "keys", "--service", "data", "--now"], 0);
    assert_eq!(started["kind"], "keys", "{started:#}");
    assert_eq!(started["phase"], "trust");
    // Trust has nothing to change for the internal CA's services: it ends at once.
    assert_eq!(rotation(&lab.apply_ok())["phase"], "reissue");
    let plan = lab.plan();
    let rekey = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "data" && c["action"] == "rekey")
        .unwrap_or_else(|| panic!("no re-key of data:\n{plan:#}"));
    assert!(rekey["reason"]
        .as_str()
        .unwrap()
        .starts_with("rotate keys, started "));
    assert_eq!(rotation(&lab.apply_ok())["phase"], "retire");
    assert_ne!(
        std::fs::read(lab.file("/srv/data/tls.key")).unwrap(),
        data_key
    );
    assert_eq!(
        std::fs::read(lab.file("/srv/rec/tls.key")).unwrap(),
        rec_key
    );
    verifies(
        &lab.file("/srv/rec/trust.pem"),
        &lab.file("/srv/data/tls.crt"),
    )
    .unwrap();
    assert!(lab.apply_ok().get("rotation").is_none());
    assert_eq!(pem_cert(&lab.ca("root.crt")), root, "the CA stays");
    let data_key_after = std::fs::read(lab.file("/srv/data/tls.key")).unwrap();
    lab.apply_ok();
    assert_eq!(
        std::fs::read(lab.file("/srv/data/tls.key")).unwrap(),
        data_key_after,
        "re-keyed once"
    );

    let unknown = lab.run(&["rotate", "keys", "--service", "nope"]);
    assert_ne!(unknown.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("--service nope"));
}

#[test]
fn a_self_signed_service_gets_its_new_certificate_trusted_before_it_is_deployed() {
    let lab = Lab::new();
    let gw_crt = lab.file("/srv/gw/tls.crt");
    let data_trust = lab.file("/srv/data/trust.pem");
    let old = pem_cert(&gw_crt);
    lab.json(&["rotate", "keys", "--service", "gw"], 0);
    let plan = lab.plan();
    assert!(
        super::remaining(rotation(&plan), "n2", "gw")
            .iter()
            .any(|p| p.ends_with("rotation/next/gw.crt")),
        "{plan:#}"
    );

    // Phase 1: the new certificate is made and trusted beside the old; gw keeps the old.
    assert_eq!(rotation(&lab.apply_ok())["phase"], "reissue");
    let staged = pem_cert(&lab.state().join("rotation/next/gw.crt"));
    assert_ne!(staged, old);
    assert_eq!(pem_cert(&gw_crt), old);
    let trusted = pem_certs(&data_trust);
    assert!(trusted.contains(&old) && trusted.contains(&staged));

    // Phase 2: gw gets it; data trusts both still, and verifies gw.
    assert_eq!(rotation(&lab.apply_ok())["phase"], "retire");
    assert_eq!(pem_cert(&gw_crt), staged);
    assert!(pem_certs(&data_trust).contains(&old));
    verifies(&data_trust, &gw_crt).unwrap();

    // Phase 3: the old one leaves data's truststore.
    assert!(lab.apply_ok().get("rotation").is_none());
    let trusted = pem_certs(&data_trust);
    assert!(trusted.contains(&staged) && !trusted.contains(&old));
    verifies(&data_trust, &gw_crt).unwrap();
    assert!(!lab.state().join("rotation").exists());
    assert!(lab.plan()["changes"].as_array().unwrap().is_empty());
}

#[test]
fn a_platform_without_an_internal_ca_has_no_ca_to_rotate() {
    let dir = TempDir::new();
    let model = dir.join("model.toml");
    std::fs::write(
        &model,
        "[platform]\nname = \"solo\"\n\n[[node]]\nname = \"n1\"\nfqdn = \"n1.solo.test\"\n\n\
         [[service]]\nname = \"gw\"\nnode = \"n1\"\nca = \"self-signed\"\n\n\
         [[service.output]]\nformat = \"pem-pair\"\npath = \"/srv/gw/tls\"\n",
    )
    .unwrap();
    let out = certfleet(&[
        "rotate",
        "ca",
        "--model",
        arg(&model),
        "--root",
        arg(&dir.join("root")),
    ]);
    assert_ne!(out.status.code(), Some(0));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("no internal CA to rotate"), "{said}");
    assert!(said.contains("model.toml"), "{said}");
}

#[test]
fn a_self_signed_service_whose_reload_fails_in_reissue_stays_trusted_with_its_old_certificate() {
    let lab = Lab::new();
    // gw gets a reload that fails while FAIL_GW exists.
    let marker = lab.dir.join("FAIL_GW");
    let model = std::fs::read_to_string(&lab.model).unwrap().replace(
        "cn = \"gw.rot.test\"\n",
        &format!(
            "cn = \"gw.rot.test\"\nreload = \"test ! -e {}\"\n",
            crate::support::run::arg(&marker)
        ),
    );
    std::fs::write(&lab.model, model).unwrap();
    lab.apply_ok();
    let gw_crt = lab.file("/srv/gw/tls.crt");
    let data_trust = lab.file("/srv/data/trust.pem");
    let old = pem_cert(&gw_crt);
    lab.json(&["rotate", "keys", "--service", "gw"], 0);
    assert_eq!(rotation(&lab.apply_ok())["phase"], "reissue");
    let staged = pem_cert(&lab.state().join("rotation/next/gw.crt"));

    // Phase 2 writes gw's new certificate, but its reload fails: gw may still serve the
    // old one, so data keeps trusting both, through every apply until the phase ends.
    std::fs::write(&marker, "").unwrap();
    for _ in 0..2 {
        let held = lab.json(&["apply", "--reload"], 1);
        assert_eq!(rotation(&held)["phase"], "reissue", "{held:#}");
        assert_eq!(pem_cert(&gw_crt), staged);
        let trusted = pem_certs(&data_trust);
        assert!(
            trusted.contains(&old) && trusted.contains(&staged),
            "the old certificate left data's truststore while gw may still serve it"
        );
    }
    std::fs::remove_file(&marker).unwrap();
    assert_eq!(rotation(&lab.apply_ok())["phase"], "retire");
    assert!(pem_certs(&data_trust).contains(&old));
    assert!(lab.apply_ok().get("rotation").is_none());
    let trusted = pem_certs(&data_trust);
    assert!(trusted.contains(&staged) && !trusted.contains(&old));
}
