//! Keystores: Java KeyStore (JKS) and PKCS#12 files, read into one format-neutral model and
//! written back in either format.
//!
//! A [`Keystore`] is a list of [`Entry`]s, each under an alias: a private key with its
//! certificate chain (keytool's `PrivateKeyEntry`) or a trusted certificate
//! (`trustedCertEntry`). [`read`] tells the format from the content; [`write_pkcs12`] and
//! [`write_jks`] produce files that `keytool` and `openssl` read.
//!
//! - PKCS#12 goes through the `p12-keystore` crate. Trusted certificates carry Java's
//!   trusted-key-usage attribute (OID 2.16.840.1.113894.746875.1.1), so keytool lists them
//!   as `trustedCertEntry`. [`Pkcs12Profile::Modern`] is AES-256-CBC with PBKDF2-SHA256 and
//!   an HMAC-SHA256 MAC; [`Pkcs12Profile::Legacy`] is what old Java and Windows expect
//!   (3DES keys, RC2-40 certificates, SHA-1 MAC).
//! - JKS is this crate's own codec (docs/DESIGN.md, "JKS", says why).
//!
//! Passwords never appear in errors; a wrong one is [`FormatError::WrongPassword`].
//!
//! ```no_run
//! use certfleet_formats::keystore::{self, Entry, Keystore, Pkcs12Profile};
//! # let root_der: Vec<u8> = Vec::new();
//! let mut store = Keystore::new();
//! store.push(Entry::Trusted { alias: "root".into(), cert_der: root_der })?;
//! let p12 = keystore::write_pkcs12(&store, "changeit", Pkcs12Profile::Modern)?;
//! let (format, again) = keystore::read(&p12, "changeit")?;
//! assert_eq!(format, keystore::KeystoreFormat::Pkcs12);
//! assert_eq!(again.entries.len(), 1);
//! # Ok::<(), certfleet_formats::FormatError>(())
//! ```

mod certs;
mod edit;
mod export;
#[doc(hidden)]
pub mod fuzzing;
mod jks;
mod jks_io;
mod jks_key;
mod pkcs12;
mod pkcs12_write;

pub use edit::{format_from_name, OpenedKeystore};
pub use export::CertificateExport;
pub use pkcs12_write::Pkcs12Profile;

use crate::FormatError;
use std::fmt;
use zeroize::Zeroizing;

/// The container format of a keystore file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeystoreFormat {
    /// PKCS#12 (`.p12`, `.pfx`), the format Java has defaulted to since version 9.
    Pkcs12,
    /// Java KeyStore (`.jks`), magic bytes FE ED FE ED.
    Jks,
}

impl KeystoreFormat {
    /// The name used on the command line: `pkcs12` or `jks`.
    pub fn name(self) -> &'static str {
        match self {
            KeystoreFormat::Pkcs12 => "pkcs12",
            KeystoreFormat::Jks => "jks",
        }
    }
}

impl fmt::Display for KeystoreFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One keystore entry.
#[derive(Clone, PartialEq, Eq)]
pub enum Entry {
    /// A private key and its certificate chain (keytool's `PrivateKeyEntry`).
    PrivateKey {
        /// The entry's name.
        alias: String,
        /// The key as unencrypted PKCS#8 DER.
        pkcs8_der: Zeroizing<Vec<u8>>,
        /// DER certificates, leaf first, then each issuer in turn.
        chain: Vec<Vec<u8>>,
    },
    /// A certificate trusted as an anchor (keytool's `trustedCertEntry`).
    Trusted {
        /// The entry's name.
        alias: String,
        /// The certificate, DER.
        cert_der: Vec<u8>,
    },
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        match self {
            Entry::PrivateKey { alias, chain, .. } => f
                .debug_struct("PrivateKey")
                .field("alias", alias)
                .field("chain_length", &chain.len())
                .finish_non_exhaustive(),
            Entry::Trusted { alias, .. } => f
                .debug_struct("Trusted")
                .field("alias", alias)
                .finish_non_exhaustive(),
        }
    }
}

impl Entry {
    /// The entry's alias.
    pub fn alias(&self) -> &str {
        match self {
            Entry::PrivateKey { alias, .. } | Entry::Trusted { alias, .. } => alias,
        }
    }

    /// The entry's certificates: the chain (leaf first) of a key entry, or the one trusted
    /// certificate.
    pub fn certificates(&self) -> Vec<&[u8]> {
        match self {
            Entry::PrivateKey { chain, .. } => chain.iter().map(Vec::as_slice).collect(),
            Entry::Trusted { cert_der, .. } => vec![cert_der.as_slice()],
        }
    }

    /// True for a private key entry.
    pub fn is_private_key(&self) -> bool {
        matches!(self, Entry::PrivateKey { .. })
    }
}

/// A keystore's entries, in file order. Aliases are unique, compared without regard to
/// case (keytool folds them to lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keystore {
    /// The entries.
    pub entries: Vec<Entry>,
}

impl Keystore {
    /// An empty keystore.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entry under `alias` (case-insensitive).
    pub fn get(&self, alias: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.alias().to_lowercase() == alias.to_lowercase())
    }

    /// Removes and returns the entry under `alias` (case-insensitive).
    pub fn remove(&mut self, alias: &str) -> Option<Entry> {
        let index = self
            .entries
            .iter()
            .position(|e| e.alias().to_lowercase() == alias.to_lowercase())?;
        Some(self.entries.remove(index))
    }

    /// Adds an entry after checking it: a new, non-empty alias; a key entry with at least
    /// one certificate; certificates that parse as X.509.
    pub fn push(&mut self, entry: Entry) -> Result<(), FormatError> {
        if self.get(entry.alias()).is_some() {
            return Err(FormatError::Keystore(format!(
                "alias '{}' already exists",
                entry.alias()
            )));
        }
        check_entry(&entry)?;
        self.entries.push(entry);
        Ok(())
    }

    /// Checks every entry as [`Keystore::push`] does, and that aliases are unique.
    pub fn check(&self) -> Result<(), FormatError> {
        let mut seen = std::collections::HashSet::new();
        for entry in &self.entries {
            if !seen.insert(entry.alias().to_lowercase()) {
                return Err(FormatError::Keystore(format!(
                    "alias '{}' appears twice (aliases ignore case)",
                    entry.alias()
                )));
            }
            check_entry(entry)?;
        }
        Ok(())
    }
}

fn check_entry(entry: &Entry) -> Result<(), FormatError> {
    let alias = entry.alias();
    if alias.trim().is_empty() {
        return Err(FormatError::Keystore("an alias may not be empty".into()));
    }
    if entry.certificates().is_empty() {
        return Err(FormatError::Keystore(format!(
            "entry '{alias}': a private key needs at least its certificate"
        )));
    }
    for (index, der) in entry.certificates().into_iter().enumerate() {
        certs::names(der).map_err(|_| {
            FormatError::Keystore(format!(
                "entry '{alias}': certificate {} is not X.509 DER",
                index + 1
            ))
        })?;
    }
    Ok(())
}

/// The keystore format of `bytes`, from their first bytes: JKS magic FE ED FE ED, or a DER
/// SEQUENCE opening with version 3 (a PKCS#12 PFX; certificates, CSRs and keys never
/// start so). `None` for anything else.
pub fn detect(bytes: &[u8]) -> Option<KeystoreFormat> {
    if bytes.starts_with(&jks::MAGIC.to_be_bytes()) {
        return Some(KeystoreFormat::Jks);
    }
    if bytes.first() != Some(&0x30) {
        return None;
    }
    let header = match bytes.get(1)? {
        n if *n < 0x80 => 2,
        n @ 0x81..=0x84 => 2 + usize::from(n - 0x80),
        _ => return None,
    };
    (bytes.get(header..header + 3)? == [0x02, 0x01, 0x03]).then_some(KeystoreFormat::Pkcs12)
}

/// Reads a JKS or PKCS#12 keystore, telling the format from the content. JKS keys are
/// decrypted with the store password.
pub fn read(bytes: &[u8], password: &str) -> Result<(KeystoreFormat, Keystore), FormatError> {
    read_with_key_password(bytes, password, None)
}

/// Like [`read`], with a JKS key password that differs from the store password. PKCS#12
/// protects keys with the store password, so `key_password` is ignored there.
pub fn read_with_key_password(
    bytes: &[u8],
    password: &str,
    key_password: Option<&str>,
) -> Result<(KeystoreFormat, Keystore), FormatError> {
    match detect(bytes) {
        Some(KeystoreFormat::Jks) => {
            let store = jks::read(bytes, password, key_password.unwrap_or(password))?;
            Ok((KeystoreFormat::Jks, store))
        }
        Some(KeystoreFormat::Pkcs12) => {
            Ok((KeystoreFormat::Pkcs12, pkcs12::read(bytes, password)?))
        }
        None if bytes.starts_with(&jks::JCEKS_MAGIC.to_be_bytes()) => {
            Err(FormatError::UnsupportedKeystore(
                "JCEKS; convert it with `keytool -importkeystore -deststoretype PKCS12`".into(),
            ))
        }
        None => Err(FormatError::UnsupportedKeystore(
            "neither JKS (magic FE ED FE ED) nor PKCS#12".into(),
        )),
    }
}

/// Writes `store` as PKCS#12 protected by `password`, with the given algorithms.
pub fn write_pkcs12(
    store: &Keystore,
    password: &str,
    profile: Pkcs12Profile,
) -> Result<Vec<u8>, FormatError> {
    store.check()?;
    pkcs12_write::write(store, password, profile)
}

/// The profile of an existing PKCS#12 file (SHA-1 MAC: legacy), so that rewriting it keeps
/// what its consumers read. `None` for anything that is not PKCS#12 with a MAC.
pub fn pkcs12_profile(bytes: &[u8]) -> Option<Pkcs12Profile> {
    pkcs12_write::profile_of(bytes)
}

/// Writes `store` as JKS: integrity-protected by `store_password`, each private key
/// protected by `key_password` (the store password when `None`, which is what Java
/// services that take one password expect). Aliases are written in lower case, as keytool
/// looks them up.
pub fn write_jks(
    store: &Keystore,
    store_password: &str,
    key_password: Option<&str>,
) -> Result<Vec<u8>, FormatError> {
    store.check()?;
    jks::write(
        store,
        store_password,
        key_password.unwrap_or(store_password),
    )
}

#[cfg(test)]
mod tests;
