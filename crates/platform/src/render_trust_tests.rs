//! A keystore that is its own truststore (`include_trust`): the private-key entry under
//! the model's alias, then the trust set as trusted entries, none taking the key's alias.

use super::*;
use certfleet_formats::keystore::KeystoreFormat;
use certfleet_testkit::{self_signed, server_leaf, TestCa};

fn keystore_output(format: Format, alias: &str, include_trust: bool) -> Output {
    Output {
        format,
        path: "transport.p12".into(),
        alias: Some(alias.into()),
        password: None,
        key_password: None,
        legacy: false,
        include_trust,
        bits: 2048,
        access: Default::default(),
        line: 1,
    }
}

#[test]
fn a_keystore_with_its_trust_set_holds_the_key_entry_and_each_trusted_certificate() {
    let ca = TestCa::with_intermediate("R", "I");
    let node = ca.issue(&server_leaf("es01.example.test"));
    // A peer whose CN is the key entry's alias: its trusted entry is renamed.
    let peer = self_signed(&server_leaf("transport"));
    let other = self_signed(&server_leaf("es02.example.test"));
    let trusted = [
        Anchor {
            der: peer.cert.as_ref().to_vec(),
            subject: "CN=transport".into(),
            sha1: "AA".into(),
        },
        Anchor {
            der: other.cert.as_ref().to_vec(),
            subject: "CN=es02.example.test".into(),
            sha1: "BB".into(),
        },
    ];
    for (format, expected) in [
        (Format::Pkcs12, KeystoreFormat::Pkcs12),
        (Format::Jks, KeystoreFormat::Jks),
    ] {
        let render_with = |include_trust: bool| {
            let output = keystore_output(format, "Transport", include_trust);
            let inputs = Inputs {
                output: &output,
                leaf: Some(Leaf {
                    key: Some(&node.key),
                    cert: &node.cert,
                    chain: &node.chain,
                }),
                trusted: &trusted,
                password: Some("pw-transport"),
                key_password: None,
            };
            let files = render(Path::new("/o/transport.p12"), &inputs).unwrap();
            let (read_format, store) = keystore::read(&files[0].contents, "pw-transport").unwrap();
            assert_eq!(read_format, expected);
            (store, digest("s", &inputs))
        };
        let (store, with_trust) = render_with(true);
        // Aliases compared in lower case (JKS folds them, PKCS#12 keeps them), and in
        // any order (a PKCS#12 file's bags are read back in another).
        let entries: std::collections::BTreeSet<(String, bool)> = store
            .entries
            .iter()
            .map(|e| (e.alias().to_lowercase(), e.is_private_key()))
            .collect();
        assert_eq!(
            entries,
            [
                ("transport".to_owned(), true),
                ("transport-2".to_owned(), false),
                ("es02.example.test".to_owned(), false),
            ]
            .into(),
            "{format:?}"
        );
        assert_eq!(
            store.get("transport-2").map(Entry::certificates),
            Some(vec![peer.cert.as_ref()]),
            "{format:?}"
        );
        // Without include_trust: the key entry alone, and another digest.
        let (plain, without_trust) = render_with(false);
        assert_eq!(plain.entries.len(), 1, "{format:?}");
        assert_ne!(with_trust, without_trust);
    }
}
