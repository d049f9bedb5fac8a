//! `inspect` of a JKS or PKCS#12 keystore: telling one apart and reading it with its
//! password; its text form is `KeystoreInspection::to_text` in certfleet-pki.

use anyhow::{bail, Context, Result};
use certfleet_formats::keystore;
use certfleet_pki::inspect::keystore::{inspect_keystore, KeystoreInspection};
use std::path::Path;
use time::OffsetDateTime;

/// True when `bytes` are a keystore (JKS magic, or a PKCS#12 PFX).
pub fn is_keystore(bytes: &[u8]) -> bool {
    keystore::detect(bytes).is_some()
}

/// Reads and describes a keystore; errors name the file.
pub fn inspect(
    path: &Path,
    bytes: &[u8],
    password: Option<&str>,
    now: OffsetDateTime,
) -> Result<KeystoreInspection> {
    let name = path.display().to_string();
    let Some(password) = password else {
        bail!("{name}: is a keystore; give its password with --password");
    };
    inspect_keystore(bytes, password, now).with_context(|| name)
}
