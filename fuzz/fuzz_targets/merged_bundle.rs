//! The lenient merged-bundle reader on arbitrary text: certfleet_formats::bundle::read_blocks
//! and certfleet_pki::bundle::read_pem (without a password, and with one, which decrypts an
//! `ENCRYPTED PRIVATE KEY` block), plus certfleet_pki::bundle::read on the raw bytes.
//!
//! Properties checked beyond "no panic":
//! - what read_blocks accepts, bundle::write writes strictly and read_blocks reads back to
//!   the same key and certificates;
//! - what read_pem accepts as a key with its leaf, Bundle::to_merged_pem writes and
//!   read_pem reads back to the same leaf and chain.
#![no_main]

use certfleet_formats::bundle;
use certfleet_pki::bundle::{self as pki_bundle, Contents};
use libfuzzer_sys::fuzz_target;

const PASSWORD: &str = "changeit";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    if let Ok(blocks) = bundle::read_blocks(&text) {
        let certs: Vec<&[u8]> = blocks
            .certificates
            .iter()
            .map(|b| b.der.as_slice())
            .collect();
        let key = blocks.key.as_ref().map(|k| (k.encoding, k.der.as_slice()));
        let written = bundle::write(key, &certs);
        if key.is_some() || !certs.is_empty() {
            let again =
                bundle::read_blocks(&written).expect("the strict writer's output reads back");
            let again_certs: Vec<&[u8]> = again
                .certificates
                .iter()
                .map(|b| b.der.as_slice())
                .collect();
            assert_eq!(again_certs, certs);
            assert_eq!(
                again.key.as_ref().map(|k| (k.encoding, k.der.as_slice())),
                key
            );
        }
    }

    for password in [None, Some(PASSWORD)] {
        if let Ok(Contents::Bundle(found)) = pki_bundle::read_pem(&text, password) {
            if found.key.is_some() && found.leaf.is_some() {
                let merged = found
                    .to_merged_pem(None)
                    .expect("a key with its leaf writes as a merged bundle");
                match pki_bundle::read_pem(&merged, None) {
                    Ok(Contents::Bundle(again)) => {
                        assert_eq!(again.leaf, found.leaf);
                        assert_eq!(again.chain, found.chain);
                    }
                    other => panic!("the merged bundle does not read back: {other:?}"),
                }
            }
        }
    }

    let _ = pki_bundle::read(data, Some(PASSWORD));
});
