//! certfleet_formats::keystore::read on arbitrary bytes, with the fixed password the seeds
//! are made with ("changeit").
//!
//! The MAC gates everything else, so each input is read twice: as it is (which exercises
//! detection, the PFX parse and the MAC check), and re-sealed by
//! keystore::fuzzing::pkcs12_reseal with a MAC that verifies under the password (which
//! exercises p12-keystore's decoding of the authenticated safe, its bags and their
//! decryption, and certfleet's linking of keys, chains and trusted entries).
//! A store that reads is checked and written back as JKS (cheap) and read again.
#![no_main]

use certfleet_formats::keystore::{self, fuzzing};
use libfuzzer_sys::fuzz_target;

const PASSWORD: &str = "changeit";

fn exercise(bytes: &[u8]) {
    let _ = keystore::pkcs12_profile(bytes);
    let Ok((_, store)) = keystore::read(bytes, PASSWORD) else {
        return;
    };
    for entry in &store.entries {
        let _ = (entry.alias(), entry.certificates(), format!("{entry:?}"));
    }
    if store.check().is_ok() {
        let jks =
            keystore::write_jks(&store, PASSWORD, None).expect("a checked store writes as JKS");
        let (_, again) = keystore::read(&jks, PASSWORD).expect("our JKS reads back");
        assert_eq!(again.entries.len(), store.entries.len());
    }
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    if let Some(resealed) = fuzzing::pkcs12_reseal(data, PASSWORD) {
        exercise(&resealed);
    }
});
