//! Every case of the selection rule, on small trees.

use super::*;
use crate::certificate::{now_unix, ServedCertificate};
use crate::tree::DomainTree;
use certfleet_testkit::{bundle_pem, expired_pem};

struct Fixture {
    resolver: Resolver,
    thumbprints: std::collections::HashMap<&'static str, String>,
}

impl Fixture {
    fn thumb(&self, name: &str) -> &str {
        &self.thumbprints[name]
    }

    fn select(&self, sni: Option<&str>) -> Resolution {
        self.resolver.resolve(sni, "ws")
    }
}

fn served(names: &[&str]) -> Arc<ServedCertificate> {
    Arc::new(ServedCertificate::from_pem(&bundle_pem(names)).unwrap())
}

/// example.test [cert M]
/// ├── a.example.test [cert A]
/// │   ├── b.a.example.test
/// │   └── other.org            (a name not under its parent's)
/// └── bare.example.test
fn with_master_cert() -> Fixture {
    let mut tree = DomainTree::new();
    tree.add("example.test", None).unwrap();
    tree.add("a.example.test", None).unwrap();
    tree.add("b.a.example.test", Some("a.example.test"))
        .unwrap();
    tree.add("other.org", Some("a.example.test")).unwrap();
    tree.add("bare.example.test", None).unwrap();
    fixture(
        tree,
        &[
            ("example.test", &["example.test"]),
            (
                "a.example.test",
                &["a.example.test", "*.a.example.test", "other.org"],
            ),
        ],
    )
}

/// corp.test (no cert)
/// ├── team.corp.test [cert T]
/// └── x.team.corp.test          (child of the master, not of team.corp.test)
fn without_master_cert() -> Fixture {
    let mut tree = DomainTree::new();
    tree.add("corp.test", None).unwrap();
    tree.add("team.corp.test", None).unwrap();
    tree.add("x.team.corp.test", None).unwrap();
    fixture(
        tree,
        &[("team.corp.test", &["team.corp.test", "*.team.corp.test"])],
    )
}

fn fixture(mut tree: DomainTree, certs: &[(&'static str, &[&str])]) -> Fixture {
    let mut thumbprints = std::collections::HashMap::new();
    for (domain, names) in certs {
        let report = tree
            .set_certificate(domain, &bundle_pem(names), false)
            .unwrap();
        thumbprints.insert(*domain, report.summary.sha1_thumbprint);
    }
    let default = served(&["localhost"]);
    thumbprints.insert("default", default.summary().sha1_thumbprint.clone());
    let index = Arc::new(DomainIndex::build(&tree).unwrap());
    Fixture {
        resolver: Resolver::new(index, default),
        thumbprints,
    }
}

fn add_certdir(fixture: &mut Fixture) {
    let certdir = served(&["ws.internal.test"]);
    fixture
        .thumbprints
        .insert("certdir", certdir.summary().sha1_thumbprint.clone());
    fixture.resolver = fixture
        .resolver
        .with_certdir("ws", Some(CertdirState::Loaded(certdir)));
}

#[test]
fn exact_match_serves_the_domains_own_certificate() {
    let f = with_master_cert();
    let r = f.select(Some("A.Example.Test."));
    assert_eq!(
        (r.source, r.domain.as_deref()),
        (Source::Domain, Some("a.example.test"))
    );
    assert_eq!(r.sha1_thumbprint, f.thumb("a.example.test"));
    assert_eq!(r.reason, "the domain a.example.test has a certificate.");
    assert!(!r.expired && !r.name_mismatch);
}

#[test]
fn a_domain_without_certificate_inherits_its_parents() {
    let f = with_master_cert();
    let r = f.select(Some("b.a.example.test"));
    assert_eq!(r.domain.as_deref(), Some("a.example.test"));
    assert!(
        r.reason
            .contains("inherits the one of its ancestor a.example.test"),
        "{}",
        r.reason
    );
    assert_eq!(
        f.select(Some("bare.example.test")).domain.as_deref(),
        Some("example.test")
    );
}

#[test]
fn an_unknown_name_is_found_through_its_parent_names() {
    let f = with_master_cert();
    let r = f.select(Some("x.y.b.a.example.test"));
    assert_eq!(r.domain.as_deref(), Some("a.example.test"));
    assert_eq!(
        r.reason,
        "no domain is named x.y.b.a.example.test; its parent name b.a.example.test is a domain that has no certificate of its own and inherits the one of its ancestor a.example.test; it does not cover this name and is served anyway, with an alert."
    );
    let r = f.select(Some("www.a.example.test"));
    assert!(
        r.reason
            .contains("its parent name a.example.test is a domain that has a certificate"),
        "{}",
        r.reason
    );
}

#[test]
fn a_child_whose_name_is_not_under_its_parents_inherits_by_tree() {
    let f = with_master_cert();
    assert_eq!(
        f.select(Some("other.org")).domain.as_deref(),
        Some("a.example.test")
    );
    // Its own parent names lead to it, not to the master.
    let r = f.select(Some("www.other.org"));
    assert_eq!(r.domain.as_deref(), Some("a.example.test"));
    assert!(r.name_mismatch, "A covers other.org, not www.other.org");
}

#[test]
fn the_master_is_tried_last() {
    let f = with_master_cert();
    let r = f.select(Some("unknown.net"));
    assert_eq!(r.domain.as_deref(), Some("example.test"));
    assert_eq!(
        r.reason,
        "no domain is named unknown.net or any of its parent names; the master domain example.test, tried last, has a certificate; it does not cover this name and is served anyway, with an alert."
    );
    assert!(r.name_mismatch);
}

#[test]
fn a_walk_without_certificate_ends_the_sni_lookup() {
    let mut f = without_master_cert();
    // x.team.corp.test is a domain: its walk (x -> corp.test) finds nothing, and the
    // lookup does not go on to the parent name team.corp.test, which has a certificate.
    let r = f.select(Some("y.x.team.corp.test"));
    assert_eq!((r.source, r.domain), (Source::Default, None));
    assert!(r.reason.contains("role ws has no certdir"), "{}", r.reason);
    add_certdir(&mut f);
    for sni in [
        "x.team.corp.test",
        "y.x.team.corp.test",
        "corp.test",
        "elsewhere.net",
    ] {
        let r = f.select(Some(sni));
        assert_eq!(r.source, Source::Certdir, "{sni}");
        assert_eq!(r.sha1_thumbprint, f.thumb("certdir"));
        assert!(
            r.reason.ends_with("so the certdir of role ws is served."),
            "{}",
            r.reason
        );
    }
    assert_eq!(
        f.select(Some("q.team.corp.test")).domain.as_deref(),
        Some("team.corp.test")
    );
}

#[test]
fn no_sni_goes_to_certdir_then_default() {
    let mut f = with_master_cert();
    let r = f.select(None);
    assert_eq!(r.source, Source::Default);
    assert_eq!(r.sha1_thumbprint, f.thumb("default"));
    assert_eq!(r.reason, "the client sent no SNI name, and role ws has no certdir, so the default certificate is served.");
    assert!(!r.name_mismatch);
    add_certdir(&mut f);
    assert_eq!(f.select(None).source, Source::Certdir);
    assert_eq!(
        f.resolver.resolve(None, "sg").source,
        Source::Default,
        "other role"
    );
    let ip = f.select(Some("10.0.0.1"));
    assert_eq!(ip.source, Source::Certdir);
    assert!(ip.reason.contains("IP address"), "{}", ip.reason);
}

#[test]
fn a_certdir_that_never_loaded_falls_to_the_default_with_the_reason() {
    let f = without_master_cert();
    let resolver = f.resolver.with_certdir(
        "ws",
        Some(CertdirState::Failed("server.key: missing".into())),
    );
    let r = resolver.resolve(Some("corp.test"), "ws");
    assert_eq!(r.source, Source::Default);
    assert!(
        r.reason.contains("did not load (server.key: missing)"),
        "{}",
        r.reason
    );
}

#[test]
fn an_expired_domain_certificate_beats_the_certdir() {
    let mut tree = DomainTree::new();
    tree.add("old.test", None).unwrap();
    tree.set_certificate("old.test", &expired_pem(&["old.test"]), false)
        .unwrap();
    let index = Arc::new(DomainIndex::build(&tree).unwrap());
    let resolver = Resolver::new(index, served(&["localhost"]))
        .with_certdir("ws", Some(CertdirState::Loaded(served(&["old.test"]))));
    let r = resolver.resolve(Some("old.test"), "ws");
    assert_eq!(
        (r.source, r.domain.as_deref()),
        (Source::Domain, Some("old.test"))
    );
    assert!(r.expired && !r.name_mismatch);
    assert!(r.reason.contains("expired on 2021-01-01"), "{}", r.reason);
    let selection = resolver.select(Some("old.test"), "ws", 1_500_000_000);
    assert!(!selection.expired, "valid in 2017");
}

#[test]
fn an_empty_tree_serves_certdir_or_default() {
    let resolver = Resolver::new(Arc::new(DomainIndex::empty()), served(&["localhost"]));
    let r = resolver.resolve(Some("any.test"), "ws");
    assert_eq!(r.source, Source::Default);
    assert!(
        r.reason.contains("there is no master domain"),
        "{}",
        r.reason
    );
    let sel = resolver.select(Some("localhost"), "ws", now_unix());
    assert!(!sel.name_mismatch);
}

#[test]
fn the_index_reports_effective_domains() {
    let f = with_master_cert();
    let index = f.resolver.index();
    assert_eq!(index.len(), 5);
    assert_eq!(index.effective_domain("other.org"), Some("a.example.test"));
    assert_eq!(
        index.effective_domain("BARE.example.test"),
        Some("example.test")
    );
    assert_eq!(index.effective_domain("nope.test"), None);
    assert!(index.heap_bytes() > 0);
}
