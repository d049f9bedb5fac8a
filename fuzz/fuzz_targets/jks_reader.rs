//! certfleet_formats::keystore::read on arbitrary bytes as JKS, with the fixed password the
//! seeds are made with ("changeit").
//!
//! The integrity digest at the end of a JKS file gates everything else, so each input is
//! read as it is (detection and the digest check), and also taken as a body (the input
//! less its last 20 bytes, so a real keystore seed is its own body) re-sealed by
//! keystore::fuzzing::jks_seal with a digest that verifies under the password: that
//! exercises the entry parser, modified UTF-8 aliases, certificate checks and the JKS key
//! protector. A store that reads is written back as JKS and must read back the same
//! (aliases in lower case).
#![no_main]

use certfleet_formats::keystore::{self, fuzzing, Entry, KeystoreFormat};
use libfuzzer_sys::fuzz_target;

const PASSWORD: &str = "changeit";

fn lower(entry: &Entry) -> Entry {
    let mut entry = entry.clone();
    match &mut entry {
        Entry::PrivateKey { alias, .. } | Entry::Trusted { alias, .. } => {
            *alias = alias.to_lowercase()
        }
    }
    entry
}

fuzz_target!(|data: &[u8]| {
    let _ = keystore::read(data, PASSWORD);
    let _ = keystore::read_with_key_password(data, PASSWORD, Some("other"));

    let body = &data[..data.len().saturating_sub(20)];
    let sealed = fuzzing::jks_seal(body, PASSWORD);
    let Ok((format, store)) = keystore::read(&sealed, PASSWORD) else {
        return;
    };
    let _ = format!("{store:?}");
    if format == KeystoreFormat::Jks && store.check().is_ok() {
        let written = keystore::write_jks(&store, PASSWORD, None).expect("a checked store writes");
        let (_, again) = keystore::read(&written, PASSWORD).expect("our JKS reads back");
        let expected: Vec<Entry> = store.entries.iter().map(lower).collect();
        assert_eq!(again.entries, expected);
    }
});
