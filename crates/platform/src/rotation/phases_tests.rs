//! Each phase's signer and anchors for root and intermediate rotations, cross-signing,
//! keys rotations' forced re-keys, and the moves that end a rotation.

use super::*;
use crate::ca_dir::load_issuing_ca;
use crate::rotation::new_ca::{abandon, make_next, promote, NewCaRequest};
use crate::rotation::record::Record;
use certfleet_pki::authority::init_ca;
use certfleet_pki::certs::to_pem;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::keys::KeyAlgorithm;
use time::OffsetDateTime;

fn load(dir: &Path) -> std::result::Result<Authority, String> {
    load_issuing_ca(dir).map_err(|e| format!("{e:#}"))
}

/// A CA directory with a root and an intermediate (or only a root).
fn ca_dir(with_intermediate: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ca = init_ca(
        "t Root CA",
        KeyAlgorithm::EcdsaP256,
        100,
        with_intermediate.then_some("t Issuing CA"),
    )
    .unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
    write("root.crt", to_pem(&[ca.root_cert]).as_bytes());
    write("root.key", ca.root_key.to_pem().as_bytes());
    if let Some((cert, key)) = ca.intermediate {
        write("intermediate.crt", to_pem(&[cert]).as_bytes());
        write("intermediate.key", key.to_pem().as_bytes());
    }
    dir
}

fn start(dir: &Path, kind: Kind, cross_sign: bool) -> Record {
    let made = make_next(
        dir,
        &NewCaRequest {
            platform: "t",
            key: KeyAlgorithm::EcdsaP256,
            kind,
            cross_sign,
            now: OffsetDateTime::now_utc(),
        },
    )
    .unwrap();
    let mut record = Record::start(kind, OffsetDateTime::now_utc(), "started".into());
    record.cross_signed = cross_sign;
    record.old = Some(made.old);
    record.new = Some(made.new);
    record
}

fn sha1s(certs: &[CertificateDer<'_>]) -> Vec<String> {
    certs.iter().map(|c| sha1_thumbprint(c)).collect()
}

fn in_phase(record: &Record, phase: Phase) -> Record {
    let mut r = record.clone();
    r.phase = phase;
    r
}

#[test]
fn each_phase_of_a_root_rotation_signs_and_trusts_as_the_table_says() {
    let dir = ca_dir(true);
    let old = load(dir.path()).unwrap();
    let record = start(dir.path(), Kind::Root, false);
    let new = load(&dir.path().join("next")).unwrap();
    let (old_chain, new_chain) = (sha1s(&old.issuing_chain()), sha1s(&new.issuing_chain()));
    let both: Vec<String> = old_chain.iter().chain(&new_chain).cloned().collect();
    let expected = [
        (Phase::Trust, &old, both.clone()),
        (Phase::Reissue, &new, both.clone()),
        (Phase::Retire, &new, new_chain.clone()),
        (Phase::RollbackReissue, &old, both.clone()),
        (Phase::RollbackTrust, &old, old_chain.clone()),
    ];
    for (phase, signer, anchors) in expected {
        let got = signing(dir.path(), Some(&in_phase(&record, phase)), &load).unwrap();
        assert_eq!(
            got.authority.certificate(),
            signer.certificate(),
            "signer in {phase}"
        );
        assert_eq!(sha1s(&got.anchors), anchors, "anchors in {phase}");
    }
    // The new CA is told apart by its names.
    let subject =
        certfleet_pki::inspect::describe_certificate(new.certificate(), OffsetDateTime::now_utc())
            .unwrap()
            .subject;
    assert!(subject.starts_with("CN=t Issuing CA 20"), "{subject}");
    // Without a rotation, or in a keys rotation, the CA is as it is.
    for record in [
        None,
        Some(Record::start(
            Kind::Keys,
            OffsetDateTime::now_utc(),
            "k".into(),
        )),
    ] {
        let got = signing(dir.path(), record.as_ref(), &load).unwrap();
        assert_eq!(got.authority.certificate(), old.certificate());
        assert_eq!(sha1s(&got.anchors), old_chain);
    }
}

#[test]
fn an_intermediate_rotation_keeps_the_root_once_among_the_anchors() {
    let dir = ca_dir(true);
    let old = load(dir.path()).unwrap();
    let record = start(dir.path(), Kind::Intermediate, false);
    assert!(!dir.path().join("next/root.key").exists());
    let new = load(&dir.path().join("next")).unwrap();
    let root = old.issuing_chain()[1].clone();
    assert_eq!(new.issuing_chain()[1], root, "signed by the same root");
    let trust = signing(dir.path(), Some(&in_phase(&record, Phase::Reissue)), &load).unwrap();
    assert_eq!(trust.authority.certificate(), new.certificate());
    assert_eq!(
        sha1s(&trust.anchors),
        sha1s(&[
            old.certificate().clone(),
            root.clone(),
            new.certificate().clone()
        ])
    );
    let retire = signing(dir.path(), Some(&in_phase(&record, Phase::Retire)), &load).unwrap();
    assert_eq!(sha1s(&retire.anchors), sha1s(&new.issuing_chain()));

    // Finishing moves the new intermediate in and the old one out; the root key stays.
    let retired = promote(dir.path(), OffsetDateTime::now_utc()).unwrap();
    assert!(!dir.path().join("next").exists());
    assert!(dir.path().join("root.key").exists());
    assert!(retired.join("intermediate.key").exists());
    assert_eq!(load(dir.path()).unwrap().certificate(), new.certificate());
}

#[test]
fn an_intermediate_rotation_of_a_root_only_ca_is_refused_and_leaves_nothing() {
    let dir = ca_dir(false);
    let err = make_next(
        dir.path(),
        &NewCaRequest {
            platform: "t",
            key: KeyAlgorithm::EcdsaP256,
            kind: Kind::Intermediate,
            cross_sign: false,
            now: OffsetDateTime::now_utc(),
        },
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("rotate the root instead"), "{err}");
    assert!(!dir.path().join("next").exists());
}

#[test]
fn a_cross_signed_rotation_signs_under_the_old_root_in_reissue_only() {
    let dir = ca_dir(true);
    let old = load(dir.path()).unwrap();
    let record = start(dir.path(), Kind::Root, true);
    let cross = std::fs::read(dir.path().join("next/cross.crt")).unwrap();
    let cross = certfleet_pki::certs::parse_certificates(&cross).unwrap();
    let new = load(&dir.path().join("next")).unwrap();
    let reissue = signing(dir.path(), Some(&in_phase(&record, Phase::Reissue)), &load).unwrap();
    assert_eq!(reissue.authority.issuing_chain(), cross);
    // The new intermediate's key under the old root's name.
    let issuer = |c: &CertificateDer<'_>| {
        x509_parser::parse_x509_certificate(c)
            .unwrap()
            .1
            .issuer()
            .to_string()
    };
    assert_eq!(issuer(&cross[0]), issuer(old.certificate()));
    assert!(
        !reissue.anchors.contains(&cross[0]),
        "the cross certificate is no anchor"
    );
    let retire = signing(dir.path(), Some(&in_phase(&record, Phase::Retire)), &load).unwrap();
    assert_eq!(retire.authority.certificate(), new.certificate());
    // A second rotation is refused while next/ exists; a rollback abandons it.
    let again = make_next(
        dir.path(),
        &NewCaRequest {
            platform: "t",
            key: KeyAlgorithm::EcdsaP256,
            kind: Kind::Root,
            cross_sign: false,
            now: OffsetDateTime::now_utc(),
        },
    );
    assert!(again.err().unwrap().to_string().contains("already exists"));
    let abandoned = abandon(dir.path(), OffsetDateTime::now_utc()).unwrap();
    assert!(abandoned.join("cross.crt").exists());
    assert!(!dir.path().join("next").exists());
}

#[test]
fn a_missing_next_directory_is_named_with_the_phase() {
    let dir = ca_dir(true);
    let record = start(dir.path(), Kind::Root, false);
    std::fs::remove_dir_all(dir.path().join("next")).unwrap();
    let err = signing(dir.path(), Some(&record), &load)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("next") && err.contains("phase trust"), "{err}");
}

#[test]
fn a_keys_rotation_forces_a_new_key_only_in_reissue_and_only_once() {
    let mut record = Record::start(Kind::Keys, OffsetDateTime::UNIX_EPOCH, "k".into());
    record.keys_before.insert("data".into(), "AA".into());
    assert_eq!(
        forced_rekey(Some(&record), "data", Some("AA")),
        None,
        "trust"
    );
    record.phase = Phase::Reissue;
    let reason = forced_rekey(Some(&record), "data", Some("AA")).unwrap();
    assert_eq!(reason, "rotate keys, started 1970-01-01");
    assert_eq!(
        forced_rekey(Some(&record), "data", Some("BB")),
        None,
        "re-keyed"
    );
    assert_eq!(forced_rekey(Some(&record), "other", Some("AA")), None);
    record.phase = Phase::Retire;
    assert_eq!(forced_rekey(Some(&record), "data", Some("AA")), None);
    assert_eq!(forced_rekey(None, "data", Some("AA")), None);
}
