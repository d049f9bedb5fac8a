//! Real rustls handshakes (in memory) against the edge's resolver: the certificate served
//! is the one `domain resolve` names, alerts are raised when a domain certificate is
//! expired or does not cover the name, and the profiles hold.

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certfleet_edge::alerts::AlertKind;
use certfleet_edge::hub::CertificateHub;
use certfleet_edge::resolver::{CertdirState, Source};
use certfleet_edge::tls::{server_config, TlsOptions, TlsProfile};
use certfleet_edge::tree::DomainTree;
use certfleet_pki::issue::LeafRequest;
use certfleet_testkit::{bundle_pem, expired_pem, merged_pem, self_signed, server_leaf};
use common::{client, handshake, served};
use std::sync::Arc;

fn tree() -> DomainTree {
    let mut tree = DomainTree::new();
    tree.add("example.test", None).unwrap();
    tree.add("a.example.test", None).unwrap();
    tree.add("b.a.example.test", Some("a.example.test"))
        .unwrap();
    tree.add("other.org", Some("a.example.test")).unwrap();
    tree.add("corp.test", Some("example.test")).unwrap();
    tree.set_certificate("example.test", &bundle_pem(&["example.test"]), false)
        .unwrap();
    tree.set_certificate(
        "a.example.test",
        &bundle_pem(&["a.example.test", "*.a.example.test", "other.org"]),
        false,
    )
    .unwrap();
    tree
}

fn hub_with(tree: &DomainTree) -> Arc<CertificateHub> {
    let hub = Arc::new(CertificateHub::new(served(&["localhost"])));
    hub.set_tree(tree).unwrap();
    hub
}

fn config(hub: &Arc<CertificateHub>, profile: TlsProfile) -> Arc<rustls::ServerConfig> {
    let options = TlsOptions {
        profile,
        session_resumption: false,
        ..TlsOptions::default()
    };
    Arc::new(server_config(&options, hub.cert_resolver("ws")).unwrap())
}

#[test]
fn the_served_certificate_is_the_resolution() {
    let hub = hub_with(&tree());
    let server = config(&hub, TlsProfile::Intermediate);
    let names = [
        Some("a.example.test"),     // exact
        Some("b.a.example.test"),   // inherited
        Some("x.b.a.example.test"), // through a parent name
        Some("other.org"),          // a child not named under its parent
        Some("nowhere.net"),        // the master, last
        None,                       // no SNI: default
    ];
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let client = client(Some(version));
        for sni in names {
            let expected = hub.resolve(sni, "ws");
            let got = handshake(&server, &client, sni).unwrap();
            assert_eq!(
                got, expected.sha1_thumbprint,
                "{sni:?}: {}",
                expected.reason
            );
        }
    }
    assert_eq!(hub.resolve(None, "ws").source, Source::Default);
    // With a certdir, the no-SNI handshake gets it.
    let certdir = served(&["ws.internal.test"]);
    let thumb = certdir.summary().sha1_thumbprint.clone();
    hub.set_certdir("ws", Some(CertdirState::Loaded(Arc::new(certdir))));
    assert_eq!(handshake(&server, &client(None), None).unwrap(), thumb);
}

#[test]
fn an_expired_domain_certificate_is_served_over_the_certdir_with_an_alert() {
    let mut tree = tree();
    tree.set_certificate("corp.test", &expired_pem(&["corp.test"]), false)
        .unwrap();
    let hub = hub_with(&tree);
    hub.set_certdir(
        "ws",
        Some(CertdirState::Loaded(Arc::new(served(&["corp.test"])))),
    );
    let server = config(&hub, TlsProfile::Intermediate);
    let expected = hub.resolve(Some("corp.test"), "ws");
    assert_eq!(expected.domain.as_deref(), Some("corp.test"));
    assert!(expected.expired);
    let got = handshake(&server, &client(None), Some("corp.test")).unwrap();
    assert_eq!(got, expected.sha1_thumbprint);
    assert_eq!(hub.alerts().counts().expired, 1);
    let events = hub.alerts().drain();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, AlertKind::Expired);
    assert_eq!(events[0].domain.as_deref(), Some("corp.test"));
    assert_eq!(events[0].sni.as_deref(), Some("corp.test"));
    assert_eq!(events[0].sha1_thumbprint, expected.sha1_thumbprint);
}

#[test]
fn a_domain_certificate_not_covering_the_name_raises_an_alert() {
    let hub = hub_with(&tree());
    let server = config(&hub, TlsProfile::Intermediate);
    // corp.test has no certificate and inherits the master's, which covers only example.test.
    handshake(&server, &client(None), Some("corp.test")).unwrap();
    handshake(&server, &client(None), Some("a.example.test")).unwrap();
    let counts = hub.alerts().counts();
    assert_eq!((counts.name_mismatch, counts.expired), (1, 0));
    let event = &hub.alerts().drain()[0];
    assert_eq!(event.kind, AlertKind::NameMismatch);
    assert_eq!(event.domain.as_deref(), Some("example.test"));
    // The default certificate does not match either, but it is no domain's: no alert.
    handshake(&server, &client(None), None).unwrap();
    assert_eq!(hub.alerts().counts().name_mismatch, 1);
}

#[test]
fn the_modern_profile_refuses_tls12() {
    let hub = hub_with(&tree());
    let modern = config(&hub, TlsProfile::Modern);
    assert!(handshake(
        &modern,
        &client(Some(&rustls::version::TLS12)),
        Some("a.example.test")
    )
    .is_err());
    assert!(handshake(
        &modern,
        &client(Some(&rustls::version::TLS13)),
        Some("a.example.test")
    )
    .is_ok());
}

#[test]
fn rsa_and_ed25519_certificates_are_served() {
    use certfleet_pki::keys::KeyAlgorithm;
    let mut tree = DomainTree::new();
    tree.add("m.test", None).unwrap();
    for (name, key) in [
        ("rsa.test", KeyAlgorithm::Rsa2048),
        ("ed.test", KeyAlgorithm::Ed25519),
    ] {
        tree.add(name, None).unwrap();
        let pem = merged_pem(self_signed(&LeafRequest {
            days: 10,
            key,
            ..server_leaf(name)
        }));
        tree.set_certificate(name, &pem, false).unwrap();
    }
    let hub = hub_with(&tree);
    let server = config(&hub, TlsProfile::Intermediate);
    for name in ["rsa.test", "ed.test"] {
        for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
            let got = handshake(&server, &client(Some(version)), Some(name)).unwrap();
            assert_eq!(got, hub.resolve(Some(name), "ws").sha1_thumbprint, "{name}");
        }
    }
}
