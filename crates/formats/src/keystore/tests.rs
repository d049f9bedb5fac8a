//! Round trips of the keystore model through both formats and both PKCS#12 profiles.
//! (Interop with keytool and openssl is tested end to end in tests/e2e.)

use super::*;
use certfleet_testkit::{server_leaf, TestCa};

struct Pki {
    root: Vec<u8>,
    leaf: Vec<u8>,
    leaf_key: Vec<u8>,
}

fn pki() -> Pki {
    let ca = TestCa::root("Test Root");
    let leaf = ca.issue(&server_leaf("web.example.test"));
    Pki {
        root: ca.root_cert().to_vec(),
        leaf: leaf.cert.to_vec(),
        leaf_key: leaf.key.pkcs8_der().to_vec(),
    }
}

fn sample(pki: &Pki) -> Keystore {
    let mut store = Keystore::new();
    store
        .push(Entry::PrivateKey {
            alias: "server".into(),
            pkcs8_der: Zeroizing::new(pki.leaf_key.clone()),
            chain: vec![pki.leaf.clone(), pki.root.clone()],
        })
        .unwrap();
    store
        .push(Entry::Trusted {
            alias: "root".into(),
            cert_der: pki.root.clone(),
        })
        .unwrap();
    store
}

fn sorted(store: &Keystore) -> Vec<Entry> {
    let mut entries = store.entries.clone();
    entries.sort_by(|a, b| a.alias().cmp(b.alias()));
    entries
}

#[test]
fn every_format_and_profile_round_trips() {
    let pki = pki();
    let store = sample(&pki);
    let outputs = [
        (
            KeystoreFormat::Pkcs12,
            write_pkcs12(&store, "pw", Pkcs12Profile::Modern).unwrap(),
        ),
        (
            KeystoreFormat::Pkcs12,
            write_pkcs12(&store, "pw", Pkcs12Profile::Legacy).unwrap(),
        ),
        (KeystoreFormat::Jks, write_jks(&store, "pw", None).unwrap()),
    ];
    assert_eq!(pkcs12_profile(&outputs[0].1), Some(Pkcs12Profile::Modern));
    assert_eq!(pkcs12_profile(&outputs[1].1), Some(Pkcs12Profile::Legacy));
    assert_eq!(pkcs12_profile(&outputs[2].1), None);
    for (format, bytes) in outputs {
        assert_eq!(detect(&bytes), Some(format));
        let (found, again) = read(&bytes, "pw").unwrap();
        assert_eq!(found, format);
        assert_eq!(sorted(&again), sorted(&store), "{format}");
        assert_eq!(
            read(&bytes, "wrong").unwrap_err(),
            FormatError::WrongPassword
        );
    }
}

#[test]
fn jks_keys_may_have_their_own_password() {
    let pki = pki();
    let bytes = write_jks(&sample(&pki), "store", Some("key")).unwrap();
    let err = read(&bytes, "store").unwrap_err();
    assert_eq!(err, FormatError::WrongKeyPassword("server".into()));
    let (_, store) = read_with_key_password(&bytes, "store", Some("key")).unwrap();
    assert_eq!(store.entries.len(), 2);
}

#[test]
fn the_model_refuses_bad_entries() {
    let pki = pki();
    let mut store = sample(&pki);
    let duplicate = Entry::Trusted {
        alias: "ROOT".into(),
        cert_der: pki.root.clone(),
    };
    assert!(store.push(duplicate).is_err());
    let keyless_chain = Entry::PrivateKey {
        alias: "empty".into(),
        pkcs8_der: Zeroizing::new(pki.leaf_key.clone()),
        chain: vec![],
    };
    assert!(store.push(keyless_chain).is_err());
    let garbage = Entry::Trusted {
        alias: "junk".into(),
        cert_der: vec![0x30, 0x00],
    };
    assert!(store.push(garbage).is_err());
    assert!(store.remove("Server").is_some());
    assert!(store.get("server").is_none());
    assert!(!format!("{:?}", sample(&pki)).contains("pkcs8"));
}

#[test]
fn foreign_and_damaged_input_is_an_error_never_a_panic() {
    let pki = pki();
    assert!(detect(&pki.leaf).is_none());
    assert!(detect(&pki.leaf_key).is_none());
    assert!(read(b"hello", "pw").is_err());
    assert!(matches!(
        read(&[0xCE, 0xCE, 0xCE, 0xCE, 0, 0, 0, 2], "pw"),
        Err(FormatError::UnsupportedKeystore(_))
    ));
    let p12 = write_pkcs12(&sample(&pki), "pw", Pkcs12Profile::Modern).unwrap();
    for cut in (0..p12.len()).step_by(97) {
        assert!(read(&p12[..cut], "pw").is_err());
    }
    let jks = write_jks(&sample(&pki), "pw", None).unwrap();
    for cut in (0..jks.len()).step_by(31) {
        assert!(read(&jks[..cut], "pw").is_err());
    }
}

/// Every single-byte change to a JKS body, resealed with a valid digest (as a hostile file
/// would be), is read or refused, never a panic.
#[test]
fn resealed_damaged_jks_never_panics() {
    let pki = pki();
    let bytes = write_jks(&sample(&pki), "pw", None).unwrap();
    let body = &bytes[..bytes.len() - 20];
    for position in 0..body.len() {
        for value in [0x00, 0x7F, 0xFF] {
            let mut damaged = body.to_vec();
            damaged[position] = value;
            let digest = jks_key::integrity_digest("pw", &damaged);
            damaged.extend_from_slice(&digest);
            let _ = read(&damaged, "pw");
        }
    }
}

/// The same for the contents of a PKCS#12 file without a MAC (which readers accept), so
/// that the bag parsing behind the MAC is reached.
#[test]
fn damaged_mac_less_pkcs12_never_panics() {
    use ::pkcs12::pfx::Pfx;
    use der::{Decode, Encode};
    let pki = pki();
    let bytes = write_pkcs12(&sample(&pki), "pw", Pkcs12Profile::Legacy).unwrap();
    let mut pfx = Pfx::from_der(&bytes).unwrap();
    pfx.mac_data = None;
    let plain = pfx.to_der().unwrap();
    assert_eq!(read(&plain, "pw").unwrap().1.entries.len(), 2);
    for position in (0..plain.len()).step_by(3) {
        for value in [0x00, 0x80, 0xFF] {
            let mut damaged = plain.clone();
            damaged[position] = value;
            let _ = read(&damaged, "pw");
        }
    }
}

/// Regression: a password with a character above U+FFFF (found by schemathesis through
/// the export API) made the PKCS#12 writer fail deep in its ASN.1 encoder; it is now
/// refused up front, in both profiles, without naming the password. Non-ASCII
/// characters inside the BMP still work.
#[test]
fn pkcs12_passwords_outside_the_bmp_are_refused_clearly() {
    let pki = pki();
    let store = sample(&pki);
    for profile in [Pkcs12Profile::Modern, Pkcs12Profile::Legacy] {
        let err = write_pkcs12(&store, "secret\u{1F600}", profile).unwrap_err();
        assert!(matches!(err, FormatError::Pkcs12Password), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
        let bytes = write_pkcs12(&store, "sécrét-Ω", profile).unwrap();
        let (format, again) = read(&bytes, "sécrét-Ω").unwrap();
        assert_eq!(format, KeystoreFormat::Pkcs12);
        assert_eq!(again.entries.len(), store.entries.len());
    }
}
