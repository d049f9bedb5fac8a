//! The kit's own checks: the names, validity windows and issuer links it promises.

use certfleet_pki::keys::PrivateKey;
use rcgen::PublicKeyData;

use crate::{bundle_pem, chain_der, expired_pem, mismatched_pem, not_yet_valid_pem};
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;
use x509_parser::time::ASN1Time;

/// The PEM blocks of `text` as `(label, DER)`.
fn blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    Pem::iter_from_buffer(text.as_bytes())
        .map(|block| {
            let block = block.unwrap();
            (block.label, block.contents)
        })
        .collect()
}

/// The certificate of a merged bundle of one key and one certificate.
fn only_certificate(text: &str) -> Vec<u8> {
    let blocks = blocks(text);
    assert_eq!(blocks.len(), 2, "{text}");
    assert_eq!(blocks[0].0, "PRIVATE KEY");
    assert_eq!(blocks[1].0, "CERTIFICATE");
    blocks[1].1.clone()
}

fn parsed(der: &[u8]) -> X509Certificate<'_> {
    x509_parser::parse_x509_certificate(der).unwrap().1
}

fn dns_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let san = cert.subject_alternative_name().unwrap().unwrap();
    san.value
        .general_names
        .iter()
        .map(|name| match name {
            x509_parser::extensions::GeneralName::DNSName(dns) => dns.to_string(),
            other => panic!("unexpected SAN {other:?}"),
        })
        .collect()
}

#[test]
fn a_bundle_carries_the_first_name_as_cn_and_every_name_as_a_san_and_is_valid_now() {
    let der = only_certificate(&bundle_pem(&["a.test", "*.a.test", "b.test"]));
    let cert = parsed(&der);
    let cn = cert.subject().iter_common_name().next().unwrap();
    assert_eq!(cn.as_str().unwrap(), "a.test");
    assert_eq!(dns_names(&cert), ["a.test", "*.a.test", "b.test"]);
    assert!(cert.validity().is_valid());
}

#[test]
fn expired_and_not_yet_valid_bundles_lie_on_either_side_of_now() {
    let now = ASN1Time::now();
    let expired = only_certificate(&expired_pem(&["old.test"]));
    let expired = parsed(&expired);
    assert!(expired.validity().not_after < now);
    assert_eq!(dns_names(&expired), ["old.test"]);
    let future = only_certificate(&not_yet_valid_pem(&["new.test"]));
    assert!(parsed(&future).validity().not_before > now);
}

#[test]
fn a_mismatched_bundle_carries_another_certificate_than_its_key_was_made_for() {
    let text = mismatched_pem(&["m.test"]);
    let blocks = blocks(&text);
    assert_eq!(blocks.len(), 2, "{text}");
    let key = PrivateKey::from_bytes(&blocks[0].1).unwrap();
    let cert = parsed(&blocks[1].1);
    assert_ne!(
        cert.public_key().subject_public_key.data.as_ref(),
        key.der_bytes()
    );
}

#[test]
fn a_der_chain_links_leaf_to_intermediate_to_root() {
    let (root, intermediate, leaf) = chain_der("c.test", 10);
    let (root, intermediate, leaf) = (parsed(&root), parsed(&intermediate), parsed(&leaf));
    assert_eq!(leaf.issuer(), intermediate.subject());
    assert_eq!(intermediate.issuer(), root.subject());
    assert_eq!(root.issuer(), root.subject());
    let days = (leaf.validity().not_after.to_datetime() - leaf.validity().not_before.to_datetime())
        .whole_days();
    assert!((10..=11).contains(&days), "{days}");
}
