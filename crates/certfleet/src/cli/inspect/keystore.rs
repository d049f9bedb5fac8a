//! `inspect` of a JKS or PKCS#12 keystore: every entry with its certificates described.

use super::render_certificate;
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

/// The text form: each entry, then its certificates as for any other file.
pub fn render_keystore(inspection: &KeystoreInspection) -> String {
    let mut out = format!(
        "kind: keystore\nformat: {}\nentries: {}\n",
        inspection.format,
        inspection.entries.len()
    );
    for entry in &inspection.entries {
        out += &format!("\nentry '{}': {}\n", entry.alias, entry.kind);
        for (index, cert) in entry.certificates.iter().enumerate() {
            out += &format!("certificate {}:\n", index + 1);
            out += &render_certificate(cert);
        }
    }
    out
}
