//! A keystore file opened for keytool-style editing: read with its format and PKCS#12
//! profile, changed entry by entry (add, delete, export), and written back the same way.
//!
//! Errors leave out the file's name; callers prefix it.

use super::{pkcs12_profile, Pkcs12Profile};
use super::{read_with_key_password, write_jks, write_pkcs12, Entry, Keystore, KeystoreFormat};
use crate::FormatError;
use std::path::Path;

/// A keystore read into memory, with what is needed to write it back the same way.
#[derive(Debug)]
pub struct OpenedKeystore {
    /// JKS or PKCS#12.
    pub format: KeystoreFormat,
    /// The PKCS#12 algorithms to write with (the file's own when it had a MAC).
    pub profile: Pkcs12Profile,
    /// The entries.
    pub store: Keystore,
}

impl OpenedKeystore {
    /// Reads a keystore file's bytes; JKS keys under `key_password` when it is given.
    pub fn read(
        bytes: &[u8],
        password: &str,
        key_password: Option<&str>,
    ) -> Result<Self, FormatError> {
        let (format, store) = read_with_key_password(bytes, password, key_password)?;
        Ok(OpenedKeystore {
            format,
            profile: pkcs12_profile(bytes).unwrap_or_default(),
            store,
        })
    }

    /// An empty keystore of `format`, written with the default profile.
    pub fn empty(format: KeystoreFormat) -> Self {
        OpenedKeystore {
            format,
            profile: Pkcs12Profile::default(),
            store: Keystore::new(),
        }
    }

    /// Refuses an existing store that is not of the `wanted` format.
    pub fn require_format(&self, wanted: Option<KeystoreFormat>) -> Result<(), FormatError> {
        match wanted {
            Some(wanted) if wanted != self.format => Err(FormatError::KeystoreTypeMismatch {
                found: self.format,
                wanted,
            }),
            _ => Ok(()),
        }
    }

    /// Switches a PKCS#12 store to the legacy profile when `legacy` asks for it.
    pub fn use_legacy(&mut self, legacy: bool) -> Result<(), FormatError> {
        if legacy {
            if self.format != KeystoreFormat::Pkcs12 {
                return Err(FormatError::LegacyNeedsPkcs12);
            }
            self.profile = Pkcs12Profile::Legacy;
        }
        Ok(())
    }

    /// Adds an entry under an alias that is not taken yet.
    pub fn add(&mut self, entry: Entry) -> Result<(), FormatError> {
        if self.store.get(entry.alias()).is_some() {
            return Err(FormatError::AliasTaken(entry.alias().to_owned()));
        }
        self.store.push(entry)
    }

    /// Removes the entry under `alias`.
    pub fn delete(&mut self, alias: &str) -> Result<Entry, FormatError> {
        let missing = self.no_such_alias(alias);
        self.store.remove(alias).ok_or(missing)
    }

    /// The entry under `alias`.
    pub fn entry(&self, alias: &str) -> Result<&Entry, FormatError> {
        self.store
            .get(alias)
            .ok_or_else(|| self.no_such_alias(alias))
    }

    /// The certificates (DER) of the entry under `alias`, leaf first; never empty.
    pub fn certificates_of(&self, alias: &str) -> Result<Vec<&[u8]>, FormatError> {
        let certs = self.entry(alias)?.certificates();
        if certs.is_empty() {
            return Err(FormatError::EntryWithoutCertificate(alias.to_owned()));
        }
        Ok(certs)
    }

    /// The private key (PKCS#8 DER) of the entry under `alias`.
    pub fn key_of(&self, alias: &str) -> Result<&[u8], FormatError> {
        match self.entry(alias)? {
            Entry::PrivateKey { pkcs8_der, .. } => Ok(pkcs8_der),
            Entry::Trusted { .. } => Err(FormatError::EntryWithoutKey(alias.to_owned())),
        }
    }

    fn no_such_alias(&self, alias: &str) -> FormatError {
        FormatError::NoSuchAlias {
            alias: alias.to_owned(),
            aliases: self
                .store
                .entries
                .iter()
                .map(|e| e.alias().to_owned())
                .collect(),
        }
    }

    /// Refuses a key password change where keys have no password of their own (PKCS#12).
    pub fn require_key_passwords(&self) -> Result<(), FormatError> {
        if self.format != KeystoreFormat::Jks {
            return Err(FormatError::NoKeyPasswords);
        }
        Ok(())
    }

    /// The file's new bytes under `password`; JKS keys under `key_password` (else the
    /// store password). PKCS#12 refuses a key password that differs from the store's.
    pub fn to_bytes(
        &self,
        password: &str,
        key_password: Option<&str>,
    ) -> Result<Vec<u8>, FormatError> {
        match self.format {
            KeystoreFormat::Jks => write_jks(&self.store, password, key_password),
            KeystoreFormat::Pkcs12 => {
                if key_password.is_some_and(|k| k != password) {
                    return Err(FormatError::Pkcs12KeyPassword);
                }
                write_pkcs12(&self.store, password, self.profile)
            }
        }
    }
}

/// The format of a keystore file to be created, from its name: `.jks` is JKS; `.p12` and
/// `.pfx` are PKCS#12.
pub fn format_from_name(path: &Path) -> Result<KeystoreFormat, FormatError> {
    let ending = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ending.as_deref() {
        Some("jks") => Ok(KeystoreFormat::Jks),
        Some("p12" | "pfx") => Ok(KeystoreFormat::Pkcs12),
        _ => Err(FormatError::UnknownKeystoreType(path.display().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_follows_the_file_name() {
        assert_eq!(
            format_from_name(Path::new("a/server.JKS")).unwrap(),
            KeystoreFormat::Jks
        );
        assert_eq!(
            format_from_name(Path::new("x.pfx")).unwrap(),
            KeystoreFormat::Pkcs12
        );
        assert!(format_from_name(Path::new("keystore")).is_err());
    }

    #[test]
    fn edits_refuse_what_keytool_refuses() {
        let mut opened = OpenedKeystore::empty(KeystoreFormat::Jks);
        assert_eq!(opened.use_legacy(true), Err(FormatError::LegacyNeedsPkcs12));
        assert_eq!(
            opened.delete("web").unwrap_err().to_string(),
            "no entry 'web'; its aliases: none"
        );
        assert_eq!(
            opened.require_format(Some(KeystoreFormat::Pkcs12)),
            Err(FormatError::KeystoreTypeMismatch {
                found: KeystoreFormat::Jks,
                wanted: KeystoreFormat::Pkcs12
            })
        );
        let p12 = OpenedKeystore::empty(KeystoreFormat::Pkcs12);
        assert_eq!(
            p12.require_key_passwords(),
            Err(FormatError::NoKeyPasswords)
        );
        assert_eq!(
            p12.to_bytes("a", Some("b")),
            Err(FormatError::Pkcs12KeyPassword)
        );
    }
}
