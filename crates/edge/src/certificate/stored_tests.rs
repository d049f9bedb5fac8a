//! Certificates read from the store with their key loaded on first use: racing first
//! uses all get the one key built, which belongs to the leaf; a stored key that belongs to
//! no certificate of the bundle is never handed out and says why; the handshake path
//! refuses such a domain instead of serving another certificate; and a certificate
//! replaced before its key was read is served as the new one; domains signed by one
//! intermediate send the same copy of it.

use super::*;
use crate::hub::CertificateHub;
use crate::tree::records::DomainRecord;
use crate::tree::DomainTree;
use certfleet_testkit::{bundle_pem, merged_pem, server_leaf, TestCa};

/// A merged bundle whose certificate is `names[0]`'s and whose key is another one's.
fn mismatched(names: &[&str]) -> String {
    let own = bundle_pem(names);
    let other = bundle_pem(names);
    let key_end = other.find("-----END PRIVATE KEY-----").unwrap() + 25;
    let key_start = other.find("-----BEGIN PRIVATE KEY-----").unwrap();
    let cert_start = own.find("-----BEGIN CERTIFICATE-----").unwrap();
    format!("{}\n{}", &other[key_start..key_end], &own[cert_start..])
}

fn stored(pem: &str) -> ServedCertificate {
    ServedCertificate::from_stored(Arc::new(Zeroizing::new(pem.to_owned()))).unwrap()
}

#[test]
fn racing_first_uses_share_one_key_that_belongs_to_the_leaf() {
    let pem = bundle_pem(&["lazy.example.test", "www.lazy.example.test"]);
    let eager = ServedCertificate::from_pem(&pem).unwrap();
    let lazy = Arc::new(stored(&pem));
    assert_eq!(lazy.summary(), eager.summary());
    assert_eq!(lazy.chain(), eager.chain());
    assert!(!lazy.is_key_settled(), "nothing needed the key yet");

    let threads: Vec<_> = (0..8)
        .map(|_| {
            let lazy = Arc::clone(&lazy);
            std::thread::spawn(move || Arc::clone(lazy.certified_key().unwrap()))
        })
        .collect();
    let keys: Vec<Arc<CertifiedKey>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for key in &keys {
        assert!(
            Arc::ptr_eq(key, &keys[0]),
            "one build, shared by every caller"
        );
        assert!(
            std::ptr::eq(key.cert.as_slice(), lazy.chain()),
            "the key holds the certificate's one copy of the chain"
        );
        assert_eq!(key.keys_match(), Ok(()), "the key is the leaf's");
    }
    assert!(lazy.is_key_settled());
    assert_eq!(lazy.load_error(), None);
}

#[test]
fn a_stored_key_of_another_certificate_is_never_handed_out() {
    let lazy = Arc::new(stored(&mismatched(&["wrong.example.test"])));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let lazy = Arc::clone(&lazy);
            std::thread::spawn(move || lazy.certified_key().is_none())
        })
        .collect();
    for refused in threads {
        assert!(refused.join().unwrap());
    }
    let reason = lazy.load_error().unwrap();
    assert!(reason.contains("private key"), "{reason}");
    assert!(!reason.contains("BEGIN"), "{reason}");
    assert!(lazy.certified_key().is_none(), "a failed load stays failed");
}

#[test]
fn a_stored_bundle_without_a_key_does_not_load() {
    let pem = bundle_pem(&["nokey.example.test"]);
    let certificate = &pem[pem.find("-----BEGIN CERTIFICATE-----").unwrap()..];
    let refused = ServedCertificate::from_stored(Arc::new(Zeroizing::new(certificate.to_owned())));
    assert!(refused.is_err());
}

#[test]
fn handshakes_refuse_an_unloadable_domain_and_serve_a_replaced_one_anew() {
    let default = ServedCertificate::from_pem(&bundle_pem(&["default.test"])).unwrap();
    let hub = Arc::new(CertificateHub::new(default));
    let record = |name: &str, parent: Option<&str>, pem: Option<String>| DomainRecord {
        name: name.to_owned(),
        parent: parent.map(str::to_owned),
        certificate_pem: pem,
        ..DomainRecord::default()
    };
    let first = bundle_pem(&["swap.example.test"]);
    let mut tree = DomainTree::from_records([
        record(
            "example.test",
            None,
            Some(bundle_pem(&["example.test", "*.example.test"])),
        ),
        record(
            "swap.example.test",
            Some("example.test"),
            Some(first.clone()),
        ),
        record(
            "wrong.example.test",
            Some("example.test"),
            Some(mismatched(&["wrong.example.test"])),
        ),
    ])
    .unwrap();
    hub.set_tree(&tree).unwrap();
    let resolver = hub.cert_resolver("edge");

    // Refused: neither the master's wildcard nor the default stands in for it.
    assert!(resolver
        .certificate_for(Some("wrong.example.test"))
        .is_none());
    let view = tree.view(tree.get("wrong.example.test").unwrap());
    assert!(view.certificate_error.is_some(), "{view:?}");

    // Replaced before any handshake read the first certificate's key.
    let second = bundle_pem(&["swap.example.test"]);
    tree.begin();
    tree.set_certificate("swap.example.test", &second, false)
        .unwrap();
    hub.apply_changes(&tree, &tree.touched()).unwrap();
    tree.commit();
    let served = resolver.certificate_for(Some("swap.example.test")).unwrap();
    let expected = ServedCertificate::from_pem(&second).unwrap();
    assert_eq!(served.cert.as_slice(), expected.chain());
    let old = ServedCertificate::from_pem(&first).unwrap();
    assert_ne!(served.cert.first(), old.chain().first());
    assert!(resolver
        .certificate_for(Some("other.example.test"))
        .is_some());
}

#[test]
fn domains_signed_by_one_intermediate_send_one_copy_of_it() {
    let ca = TestCa::with_intermediate("Shared Root", "Shared Issuing");
    let one = stored(&merged_pem(ca.issue(&server_leaf("one.shared.test"))));
    let two = ServedCertificate::from_pem(&merged_pem(ca.issue(&server_leaf("two.shared.test"))))
        .unwrap();
    let intermediate = ca.intermediate_cert().unwrap();
    for served in [&one, &two] {
        assert_eq!(served.chain().len(), 3, "leaf, intermediate, root");
        assert_eq!(&served.chain()[1], intermediate);
    }
    assert_ne!(one.chain()[0], two.chain()[0], "each its own leaf");
    assert!(
        std::ptr::eq(one.chain()[1].as_ref(), two.chain()[1].as_ref()),
        "one copy of the intermediate"
    );
    assert!(std::ptr::eq(
        one.chain()[2].as_ref(),
        two.chain()[2].as_ref()
    ));
    assert_eq!(one.certified_key().unwrap().keys_match(), Ok(()));
}
