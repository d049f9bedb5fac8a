//! Unit tests of merged-bundle reading and writing.

use super::*;
use crate::authority::{init_ca, Authority};
use crate::issue::{issue_leaf, IssuedLeaf, LeafRequest};
use crate::keys::KeyAlgorithm;
use crate::profile::Usage;
use certfleet_formats::encrypted_key;

struct Pki {
    leaf: IssuedLeaf,
    intermediate: CertificateDer<'static>,
    root: CertificateDer<'static>,
}

fn pki(key: KeyAlgorithm) -> Pki {
    let ca = init_ca(
        "Bundle Root",
        KeyAlgorithm::EcdsaP256,
        30,
        Some("Bundle Issuing"),
    )
    .unwrap();
    let (icert, ikey) = ca.intermediate.unwrap();
    let authority = Authority::new(icert.clone(), ikey, vec![ca.root_cert.clone()]).unwrap();
    let request = LeafRequest {
        cn: "bundle.example.test".into(),
        dns_names: vec![],
        ips: vec![],
        usage: Usage::Server,
        days: 10,
        key,
    };
    Pki {
        leaf: issue_leaf(&request, Some(&authority)).unwrap(),
        intermediate: icert,
        root: ca.root_cert,
    }
}

fn cert_pem(cert: &CertificateDer<'_>) -> String {
    pem::encode("CERTIFICATE", cert)
}

fn expect_bundle(contents: Contents) -> Bundle {
    match contents {
        Contents::Bundle(bundle) => bundle,
        Contents::Request(_) => panic!("expected a bundle"),
    }
}

#[test]
fn finds_the_leaf_and_orders_the_chain_whatever_the_block_order_and_key_encoding() {
    for alg in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Ed25519,
    ] {
        let pki = pki(alg);
        let key = &pki.leaf.key;
        let key_blocks = [
            Some(pem::encode("PRIVATE KEY", key.pkcs8_der())),
            key.to_pkcs1_der()
                .ok()
                .map(|d| pem::encode("RSA PRIVATE KEY", &d)),
            key.to_sec1_der()
                .ok()
                .map(|d| pem::encode("EC PRIVATE KEY", &d)),
            Some(pem::encode(
                "ENCRYPTED PRIVATE KEY",
                &encrypted_key::encrypt_with_iterations(key.pkcs8_der(), "pw", 1000).unwrap(),
            )),
        ];
        for key_block in key_blocks.into_iter().flatten() {
            let text = format!(
                "Bag Attributes\n    friendlyName: root\nsubject=/CN=Bundle Root\n{}{}Bag Attributes\n    localKeyID: 01\n{}{}",
                cert_pem(&pki.root),
                key_block,
                cert_pem(&pki.leaf.cert),
                cert_pem(&pki.intermediate),
            );
            for variant in [
                text.clone(),
                text.replace('\n', "\r\n"),
                text.replace('\n', " "),
            ] {
                let bundle = expect_bundle(read(variant.as_bytes(), Some("pw")).unwrap());
                assert_eq!(bundle.leaf.as_ref(), Some(&pki.leaf.cert), "{alg}");
                assert_eq!(
                    bundle.chain,
                    vec![pki.intermediate.clone(), pki.root.clone()]
                );
                assert!(bundle.unrelated.is_empty());
                assert_eq!(bundle.key.unwrap().spki_der(), key.spki_der());
            }
        }
    }
}

#[test]
fn refuses_a_key_matching_no_certificate_naming_the_block() {
    let pki = pki(KeyAlgorithm::EcdsaP256);
    let stranger = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let text = format!(
        "{}{}{}",
        cert_pem(&pki.leaf.cert),
        cert_pem(&pki.root),
        stranger.to_pem().as_str()
    );
    let err = read(text.as_bytes(), None).unwrap_err().to_string();
    assert_eq!(
        err,
        "block 3 (PRIVATE KEY): the private key matches none of the certificates \
         (block 1 (CERTIFICATE), block 2 (CERTIFICATE))"
    );
}

#[test]
fn refuses_two_keys_and_encrypted_keys_without_the_right_password() {
    let pki = pki(KeyAlgorithm::EcdsaP256);
    let key_pem = pki.leaf.key.to_pem();
    let text = format!(
        "{}{}{}",
        key_pem.as_str(),
        cert_pem(&pki.leaf.cert),
        key_pem.as_str()
    );
    let err = read(text.as_bytes(), None).unwrap_err().to_string();
    assert!(
        err.starts_with("block 3 (PRIVATE KEY): a second private key"),
        "{err}"
    );

    let sealed =
        encrypted_key::encrypt_with_iterations(pki.leaf.key.pkcs8_der(), "pw", 1000).unwrap();
    let text = format!(
        "{}{}",
        cert_pem(&pki.leaf.cert),
        pem::encode("ENCRYPTED PRIVATE KEY", &sealed)
    );
    let err = read(text.as_bytes(), None).unwrap_err().to_string();
    assert!(
        err.starts_with("block 2 (ENCRYPTED PRIVATE KEY): "),
        "{err}"
    );
    assert!(err.contains("password is needed"), "{err}");
    let err = read(text.as_bytes(), Some("nope")).unwrap_err().to_string();
    assert!(
        err.contains("block 2") && err.contains("wrong password"),
        "{err}"
    );
    // The same key as DER.
    let err = read(&sealed, Some("nope")).unwrap_err().to_string();
    assert!(err.contains("wrong password"), "{err}");
    assert!(expect_bundle(read(&sealed, Some("pw")).unwrap())
        .key
        .is_some());
}

#[test]
fn names_a_certificate_block_that_does_not_parse() {
    let pki = pki(KeyAlgorithm::EcdsaP256);
    let mut broken = pki.root.to_vec();
    broken.truncate(broken.len() - 10);
    let text = format!(
        "{}{}",
        cert_pem(&pki.leaf.cert),
        pem::encode("CERTIFICATE", &broken)
    );
    let err = read(text.as_bytes(), None).unwrap_err().to_string();
    assert!(
        err.starts_with("block 2 (CERTIFICATE): certificate does not parse"),
        "{err}"
    );
}

#[test]
fn writes_key_leaf_chain_and_reads_it_back() {
    let pki = pki(KeyAlgorithm::EcdsaP384);
    let text = format!(
        "{}{}{}",
        cert_pem(&pki.root),
        cert_pem(&pki.intermediate),
        cert_pem(&pki.leaf.cert)
    );
    let mut bundle = expect_bundle(read(text.as_bytes(), None).unwrap());
    assert_eq!(bundle.leaf.as_ref(), Some(&pki.leaf.cert));
    assert!(bundle.to_merged_pem(None).is_err());
    bundle.key = Some(PrivateKey::from_bytes(pki.leaf.key.to_pem().as_bytes()).unwrap());
    let merged = bundle.to_merged_pem(None).unwrap();
    let expected = format!(
        "{}{}{}{}",
        pki.leaf.key.to_pem().as_str(),
        cert_pem(&pki.leaf.cert),
        cert_pem(&pki.intermediate),
        cert_pem(&pki.root)
    );
    assert_eq!(merged.as_str(), expected);
    let sealed = bundle.to_merged_pem(Some("secret")).unwrap();
    assert!(sealed.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let again = expect_bundle(read(sealed.as_bytes(), Some("secret")).unwrap());
    assert_eq!(again.certificates(), bundle.certificates());
}

#[test]
fn reads_der_certificates_keys_and_csrs() {
    let pki = pki(KeyAlgorithm::Rsa2048);
    let bundle = expect_bundle(read(&pki.leaf.cert, None).unwrap());
    assert_eq!(bundle.leaf.as_ref(), Some(&pki.leaf.cert));
    for der in [
        pki.leaf.key.pkcs8_der().to_vec(),
        pki.leaf.key.to_pkcs1_der().unwrap().to_vec(),
    ] {
        let bundle = expect_bundle(read(&der, None).unwrap());
        assert_eq!(bundle.key.unwrap().spki_der(), pki.leaf.key.spki_der());
        assert!(bundle.leaf.is_none());
    }
    let csr =
        crate::csr::new_csr("c.example.test", &[], &[], false, KeyAlgorithm::EcdsaP256).unwrap();
    assert!(
        matches!(read(&csr.csr_der, None).unwrap(), Contents::Request(der) if der == csr.csr_der)
    );
    let text = pem::encode("CERTIFICATE REQUEST", &csr.csr_der);
    assert!(matches!(
        read(text.as_bytes(), None).unwrap(),
        Contents::Request(_)
    ));
    assert!(read(b"\x30\x03\x02\x01\x00", None).is_err());
}

#[test]
fn converts_keys_between_encodings() {
    let ec = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let sec1 = ec.to_sec1_der().unwrap();
    let back = PrivateKey::from_der_as(KeyEncoding::Sec1, &sec1, None).unwrap();
    assert_eq!(back.spki_der(), ec.spki_der());
    assert!(ec.to_pkcs1_der().is_err());
    let ed = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    assert!(ed.to_sec1_der().is_err());
    let weak = PrivateKey::generate(KeyAlgorithm::Rsa1024).unwrap();
    let pkcs1 = weak.to_pkcs1_der().unwrap();
    let back = PrivateKey::from_der_as(KeyEncoding::Pkcs1, &pkcs1, None).unwrap();
    assert_eq!(back.algorithm(), KeyAlgorithm::Rsa1024);
}

#[test]
fn reads_the_certificates_of_a_stored_bundle_in_any_order_without_its_key() {
    let pki = pki(KeyAlgorithm::EcdsaP256);
    let key = pem::encode("PRIVATE KEY", pki.leaf.key.pkcs8_der());
    let certificates = format!(
        "{}{}{}",
        cert_pem(&pki.root),
        cert_pem(&pki.leaf.cert),
        cert_pem(&pki.intermediate)
    );
    let (found, has_key) = read_pem_certificates(&format!("{certificates}{key}")).unwrap();
    assert!(has_key);
    assert!(found.key.is_none(), "the key is not read");
    assert_eq!(found.leaf.as_ref(), Some(&pki.leaf.cert));
    assert_eq!(found.chain, [pki.intermediate.clone(), pki.root.clone()]);
    assert!(found.unrelated.is_empty());
    let (_, has_key) = read_pem_certificates(&certificates).unwrap();
    assert!(!has_key);

    let mut trailing = pki.intermediate.to_vec();
    trailing.extend_from_slice(&[0, 0]);
    let text = format!(
        "{}{}",
        cert_pem(&pki.leaf.cert),
        pem::encode("CERTIFICATE", &trailing)
    );
    let err = read_pem_certificates(&text).unwrap_err().to_string();
    assert!(
        err.starts_with("block 2 (CERTIFICATE): certificate"),
        "{err}"
    );
    assert!(err.contains("trailing bytes"), "{err}");
}
