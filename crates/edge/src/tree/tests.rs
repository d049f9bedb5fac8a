//! Tree shape rules, certificate refusals and the stored record form.

use super::records::DomainRecord;
use super::*;
use crate::certificate::AUTO_ISSUED_HEADER;
use certfleet_testkit::{bundle_pem, expired_pem, mismatched_pem};

fn sample() -> DomainTree {
    let mut tree = DomainTree::new();
    tree.add("Example.TEST", None).unwrap();
    tree.add("a.example.test", None).unwrap();
    tree.add("b.a.example.test", Some("a.example.test"))
        .unwrap();
    tree.add("other.org", Some("a.example.test")).unwrap();
    tree
}

#[test]
fn the_first_domain_is_the_master_and_others_default_under_it() {
    let tree = sample();
    assert_eq!(tree.master().unwrap().name(), "example.test");
    assert_eq!(tree.master().unwrap().parent(), None);
    assert_eq!(
        tree.get("A.Example.Test").unwrap().parent(),
        Some("example.test")
    );
    assert_eq!(
        tree.get("other.org").unwrap().parent(),
        Some("a.example.test")
    );
    let ancestors: Vec<&str> = tree
        .ancestors("b.a.example.test")
        .map(Domain::name)
        .collect();
    assert_eq!(ancestors, ["a.example.test", "example.test"]);
    let children: Vec<&str> = tree.children("a.example.test").map(Domain::name).collect();
    assert_eq!(children, ["b.a.example.test", "other.org"]);
}

#[test]
fn shape_errors_are_refused() {
    let mut tree = sample();
    assert!(tree.add("a.example.test", None).is_err(), "duplicate");
    assert!(matches!(
        tree.add("x.example.test", Some("missing.test")),
        Err(EdgeError::UnknownDomain(_))
    ));
    assert!(matches!(
        tree.add("*.example.test", None),
        Err(EdgeError::InvalidName { .. })
    ));
    assert!(matches!(
        tree.add("not a name", None),
        Err(EdgeError::InvalidName { .. })
    ));
    let cycle = tree
        .set_parent("a.example.test", "b.a.example.test")
        .unwrap_err();
    assert!(cycle.to_string().contains("cycle"), "{cycle}");
    assert!(tree.set_parent("a.example.test", "a.example.test").is_err());
    assert!(
        tree.set_parent("example.test", "a.example.test").is_err(),
        "master"
    );
    let busy = tree.remove("a.example.test").unwrap_err().to_string();
    assert!(busy.contains("b.a.example.test"), "{busy}");
    tree.set_parent("other.org", "example.test").unwrap();
    assert_eq!(
        tree.get("other.org").unwrap().parent(),
        Some("example.test")
    );
    tree.remove("b.a.example.test").unwrap();
    assert!(tree.get("b.a.example.test").is_none());
}

#[test]
fn acme_needs_an_email() {
    let mut tree = sample();
    assert!(tree.set_acme("a.example.test", true, None).is_err());
    assert!(tree
        .set_acme("a.example.test", true, Some("not-an-email"))
        .is_err());
    tree.set_acme("a.example.test", true, Some("ops@example.test"))
        .unwrap();
    let acme = tree.get("a.example.test").unwrap().acme().clone();
    assert_eq!(
        acme,
        AcmeSettings {
            enabled: true,
            email: Some("ops@example.test".into())
        }
    );
    tree.set_acme("a.example.test", false, None).unwrap();
    assert!(!tree.get("a.example.test").unwrap().acme().enabled);
}

#[test]
fn a_key_that_does_not_match_is_refused_even_when_forced() {
    let mut tree = sample();
    let pem = mismatched_pem(&["a.example.test"]);
    for force in [false, true] {
        let err = tree
            .set_certificate("a.example.test", &pem, force)
            .unwrap_err();
        assert!(err.to_string().contains("matches none"), "{err}");
    }
    assert!(tree.get("a.example.test").unwrap().certificate().is_none());
}

#[test]
fn a_certificate_not_covering_the_name_needs_force() {
    let mut tree = sample();
    let pem = bundle_pem(&["shop.example.com"]);
    let err = tree
        .set_certificate("a.example.test", &pem, false)
        .unwrap_err();
    assert!(matches!(err, EdgeError::NameNotCovered { .. }));
    assert!(err.to_string().contains("DNS:shop.example.com"), "{err}");
    let report = tree.set_certificate("a.example.test", &pem, true).unwrap();
    assert!(
        report.warnings[0].contains("--force"),
        "{:?}",
        report.warnings
    );
    assert!(tree.get("a.example.test").unwrap().certificate().is_some());
}

#[test]
fn a_wildcard_covers_exactly_one_label() {
    let mut tree = sample();
    let wildcard = bundle_pem(&["*.example.test"]);
    tree.set_certificate("a.example.test", &wildcard, false)
        .unwrap();
    assert!(tree
        .set_certificate("b.a.example.test", &wildcard, false)
        .is_err());
    assert!(tree
        .set_certificate("example.test", &wildcard, false)
        .is_err());
}

#[test]
fn lenient_bundles_are_accepted_and_the_header_is_noticed() {
    let mut tree = sample();
    let pem = bundle_pem(&["example.test", "a.example.test"]);
    // Pasted into a one-line field, with a `date=` prefix, certificate before key.
    let cert_at = pem.find("-----BEGIN CERTIFICATE-----").unwrap();
    let reordered = format!("{}{}", &pem[cert_at..], &pem[..cert_at]);
    let flattened = format!("date=2023-11-29 {}", reordered.replace('\n', " "));
    let report = tree
        .set_certificate("example.test", &flattened, false)
        .unwrap();
    assert!(!report.summary.auto_issued);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    tree.set_acme("a.example.test", true, Some("ops@example.test"))
        .unwrap();
    let auto = format!("{AUTO_ISSUED_HEADER}\n{pem}");
    let report = tree
        .set_certificate("a.example.test", &auto, false)
        .unwrap();
    assert!(report.summary.auto_issued && report.warnings.is_empty());
    let manual = tree.set_certificate("a.example.test", &pem, false).unwrap();
    assert!(
        manual.warnings[0].contains("automatic renewal stops"),
        "{:?}",
        manual.warnings
    );
    assert_eq!(report.summary.sha1_thumbprint.len(), 40);
    // Without ACME, replacing an automatically issued certificate (a server CA's) by
    // hand ends its renewal too, and says so.
    tree.set_certificate("example.test", &auto, false).unwrap();
    let manual = tree.set_certificate("example.test", &pem, false).unwrap();
    assert!(
        manual.warnings[0].contains("automatic renewal stops"),
        "{:?}",
        manual.warnings
    );
}

#[test]
fn expired_certificates_are_stored_with_a_warning() {
    let mut tree = sample();
    let report = tree
        .set_certificate("a.example.test", &expired_pem(&["a.example.test"]), false)
        .unwrap();
    assert!(
        report.warnings[0].contains("expired"),
        "{:?}",
        report.warnings
    );
    assert!(tree.clear_certificate("a.example.test").unwrap().is_some());
    assert!(tree.get("a.example.test").unwrap().certificate().is_none());
}

#[test]
fn records_round_trip_in_any_order() {
    let mut tree = sample();
    tree.set_certificate("a.example.test", &bundle_pem(&["a.example.test"]), false)
        .unwrap();
    tree.set_acme("other.org", true, Some("ops@other.org"))
        .unwrap();
    let mut records = tree.to_records();
    records.reverse();
    let again = DomainTree::from_records(records).unwrap();
    assert_eq!(again.to_records(), tree.to_records());
    assert_eq!(
        again
            .effective_certificate("b.a.example.test")
            .unwrap()
            .name(),
        "a.example.test"
    );
}

fn record(name: &str, parent: Option<&str>) -> DomainRecord {
    DomainRecord {
        name: name.into(),
        parent: parent.map(Into::into),
        ..DomainRecord::default()
    }
}

#[test]
fn stored_records_with_a_bad_shape_are_refused() {
    let two_masters = [record("a.test", None), record("b.test", None)];
    assert!(DomainTree::from_records(two_masters)
        .unwrap_err()
        .to_string()
        .contains("two master"));
    let orphan = [record("a.test", None), record("b.test", Some("gone.test"))];
    assert!(DomainTree::from_records(orphan)
        .unwrap_err()
        .to_string()
        .contains("gone.test"));
    let cycle = [
        record("m.test", None),
        record("x.test", Some("y.test")),
        record("y.test", Some("x.test")),
    ];
    assert!(DomainTree::from_records(cycle)
        .unwrap_err()
        .to_string()
        .contains("cycle"));
    let no_master = [
        record("x.test", Some("y.test")),
        record("y.test", Some("x.test")),
    ];
    assert!(DomainTree::from_records(no_master).is_err());
    let twice = [record("m.test", None), record("m.test", Some("m.test"))];
    assert!(DomainTree::from_records(twice).is_err());
    assert!(DomainTree::from_records([]).unwrap().is_empty());
}

#[test]
fn views_show_the_certificate_and_the_effective_domain() {
    let mut tree = sample();
    tree.set_certificate("a.example.test", &bundle_pem(&["a.example.test"]), false)
        .unwrap();
    let child = tree.view(tree.get("b.a.example.test").unwrap());
    assert_eq!(child.parent.as_deref(), Some("a.example.test"));
    assert!(child.certificate.is_none());
    assert_eq!(child.effective_domain.as_deref(), Some("a.example.test"));
    let master = tree.view(tree.master().unwrap());
    assert_eq!((master.parent, master.effective_domain), (None, None));
    let views = tree.views();
    assert_eq!(views.len(), 4);
    let own = views.iter().find(|v| v.name == "a.example.test").unwrap();
    assert_eq!(
        own.certificate.as_ref().unwrap().sans,
        ["DNS:a.example.test"]
    );
}
