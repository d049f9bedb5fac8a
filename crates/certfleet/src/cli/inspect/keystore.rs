//! `inspect` of a JKS or PKCS#12 keystore: every entry with its certificates described.

use super::render_certificate;
use anyhow::{bail, Context, Result};
use certfleet_formats::keystore::{self, Entry};
use certfleet_pki::inspect::{describe_certificate, CertificateInfo};
use serde::Serialize;
use std::path::Path;
use time::OffsetDateTime;

/// What `inspect --json` prints for a keystore.
#[derive(Debug, Serialize)]
pub struct KeystoreInspection {
    /// Always `keystore`.
    kind: &'static str,
    /// `jks` or `pkcs12`.
    format: &'static str,
    /// Every distinct certificate in the file, in entry order (each chain leaf first).
    certificates: Vec<CertificateInfo>,
    /// The entries.
    entries: Vec<InspectedEntry>,
}

/// One keystore entry.
#[derive(Debug, Serialize)]
struct InspectedEntry {
    alias: String,
    /// `private_key` or `trusted_certificate`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The chain of a key entry (leaf first), or the one trusted certificate.
    certificates: Vec<CertificateInfo>,
}

/// True when `bytes` are a keystore (JKS magic, or a PKCS#12 PFX).
pub fn is_keystore(bytes: &[u8]) -> bool {
    keystore::detect(bytes).is_some()
}

/// Reads and describes a keystore; errors name the file.
pub fn inspect_keystore(
    path: &Path,
    bytes: &[u8],
    password: Option<&str>,
    now: OffsetDateTime,
) -> Result<KeystoreInspection> {
    let name = path.display().to_string();
    let Some(password) = password else {
        bail!("{name}: is a keystore; give its password with --password");
    };
    let (format, store) = keystore::read(bytes, password).with_context(|| name.clone())?;
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut certificates = Vec::new();
    let mut entries = Vec::new();
    for entry in &store.entries {
        let mut described = Vec::new();
        for der in entry.certificates() {
            let info = describe_certificate(der, now)
                .with_context(|| format!("{name}: entry '{}'", entry.alias()))?;
            if !seen.contains(&der) {
                seen.push(der);
                certificates.push(info.clone());
            }
            described.push(info);
        }
        entries.push(InspectedEntry {
            alias: entry.alias().to_owned(),
            kind: match entry {
                Entry::PrivateKey { .. } => "private_key",
                Entry::Trusted { .. } => "trusted_certificate",
            },
            certificates: described,
        });
    }
    Ok(KeystoreInspection {
        kind: "keystore",
        format: format.name(),
        certificates,
        entries,
    })
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
