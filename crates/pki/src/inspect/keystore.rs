//! Keystores described: every entry of a JKS or PKCS#12 file with its certificates (for
//! `inspect`), and each entry summed up by its first certificate (for `keystore list`,
//! whose text [`listing_text`] writes as keytool's `-list` reads).

use super::day_count::Days;
use super::{describe_certificate, CertificateInfo};
use crate::error::{PkiError, Result};
use certfleet_formats::keystore::{self, Entry, KeystoreFormat};
use serde::Serialize;
use time::OffsetDateTime;

/// A keystore described, entry by entry.
#[derive(Debug, Serialize)]
pub struct KeystoreInspection {
    /// Always `keystore`.
    pub kind: &'static str,
    /// `jks` or `pkcs12`.
    pub format: &'static str,
    /// Every distinct certificate in the file, in entry order (each chain leaf first).
    pub certificates: Vec<CertificateInfo>,
    /// The entries.
    pub entries: Vec<InspectedEntry>,
}

/// One keystore entry with its certificates.
#[derive(Debug, Serialize)]
pub struct InspectedEntry {
    /// The alias.
    pub alias: String,
    /// `private_key` or `trusted_certificate`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The chain of a key entry (leaf first), or the one trusted certificate.
    pub certificates: Vec<CertificateInfo>,
}

/// One entry summed up by its first certificate (the leaf of a key entry).
#[derive(Debug, Serialize)]
pub struct ListedEntry {
    /// The alias.
    pub alias: String,
    /// `private_key` or `trusted_certificate`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// How many certificates the entry holds.
    pub chain_length: usize,
    /// The first certificate's subject.
    pub subject: String,
    /// The first certificate's issuer.
    pub issuer: String,
    /// The first certificate's expiry.
    pub not_after: String,
    /// Days until then.
    pub days_remaining: i64,
    /// SHA-1 of the first certificate, as keytool shows it.
    pub sha1_thumbprint: String,
    /// SHA-256 of the first certificate.
    pub sha256_fingerprint: String,
}

/// The JSON name of an entry's type.
pub fn entry_kind(entry: &Entry) -> &'static str {
    if entry.is_private_key() {
        "private_key"
    } else {
        "trusted_certificate"
    }
}

fn in_entry(entry: &Entry, error: PkiError) -> PkiError {
    PkiError::Entry {
        alias: entry.alias().to_owned(),
        error: Box::new(error),
    }
}

/// Reads a keystore with its store password and describes every entry; errors name the
/// entry.
pub fn inspect_keystore(
    bytes: &[u8],
    password: &str,
    now: OffsetDateTime,
) -> Result<KeystoreInspection> {
    let (format, store) = keystore::read(bytes, password)?;
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut certificates = Vec::new();
    let mut entries = Vec::new();
    for entry in &store.entries {
        let mut described = Vec::new();
        for der in entry.certificates() {
            let info = describe_certificate(der, now).map_err(|e| in_entry(entry, e))?;
            if !seen.contains(&der) {
                seen.push(der);
                certificates.push(info.clone());
            }
            described.push(info);
        }
        entries.push(InspectedEntry {
            alias: entry.alias().to_owned(),
            kind: entry_kind(entry),
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

/// Describes an entry by its first certificate; errors name the alias.
pub fn describe_entry(entry: &Entry, now: OffsetDateTime) -> Result<ListedEntry> {
    let certs = entry.certificates();
    let first = certs.first().copied().unwrap_or_default();
    let info = describe_certificate(first, now).map_err(|e| in_entry(entry, e))?;
    Ok(ListedEntry {
        alias: entry.alias().to_owned(),
        kind: entry_kind(entry),
        chain_length: certs.len(),
        subject: info.subject,
        issuer: info.issuer,
        not_after: info.not_after,
        days_remaining: info.days_remaining,
        sha1_thumbprint: info.sha1_thumbprint,
        sha256_fingerprint: info.sha256_fingerprint,
    })
}

/// The type's name as keytool writes it.
fn keytool_name(format: KeystoreFormat) -> &'static str {
    match format {
        KeystoreFormat::Jks => "JKS",
        KeystoreFormat::Pkcs12 => "PKCS12",
    }
}

/// `keystore list` in words: the type, the entry count, then each entry's alias, kind,
/// subject, issuer, expiry with the days left, and thumbprints.
pub fn listing_text(format: KeystoreFormat, entries: &[ListedEntry]) -> String {
    let mut out = format!(
        "Keystore type: {}\n{} entr{}\n",
        keytool_name(format),
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" }
    );
    for entry in entries {
        let kind = match entry.kind {
            "private_key" => format!("PrivateKeyEntry, chain length {}", entry.chain_length),
            _ => "trustedCertEntry".to_owned(),
        };
        out += &format!(
            "\n{}: {kind}\n  subject:             {}\n  issuer:              {}\n  expires:             {} ({} remaining)\n  SHA-1 thumbprint:    {}\n  SHA-256 fingerprint: {}\n",
            entry.alias,
            entry.subject,
            entry.issuer,
            entry.not_after,
            Days(entry.days_remaining),
            entry.sha1_thumbprint,
            entry.sha256_fingerprint,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_certificate_names_its_entry() {
        let entry = Entry::Trusted {
            alias: "root".into(),
            cert_der: vec![0x30, 0x00],
        };
        assert_eq!(entry_kind(&entry), "trusted_certificate");
        let message = describe_entry(&entry, OffsetDateTime::now_utc())
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("entry 'root': "), "{message}");
    }
}
