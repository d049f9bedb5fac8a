//! A listener role's certdir: a directory holding exactly `server.key`
//! and `server.crt` (the leaf followed by its chain), given as a path or as
//! `alias://NAME` resolved through the configuration's `[aliases]` table.
//!
//! [`Certdir::load`] reads both files (PEM or DER; the key may be PKCS#8, PKCS#1 or
//! SEC1), checks that the key matches a certificate and orders the chain. [`watch`] keeps
//! a hub's snapshot in step with the files.

pub mod watch;

use crate::certificate::ServedCertificate;
use crate::error::{EdgeError, Result};
use certfleet_pki::bundle::{self, Contents};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use watch::CertdirWatcher;

/// The key file's name inside a certdir.
pub const KEY_FILE: &str = "server.key";
/// The certificate file's name inside a certdir (leaf first, then the chain).
pub const CERT_FILE: &str = "server.crt";
/// The prefix of a certdir given through the aliases table.
pub const ALIAS_PREFIX: &str = "alias://";

/// A certdir location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certdir {
    dir: PathBuf,
}

impl Certdir {
    /// A certdir at a known directory.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Certdir { dir: dir.into() }
    }

    /// A certdir as configured: a path, or `alias://NAME` looked up in `aliases`. The
    /// platform manuals write `alias://paths/NAME`; when `paths/NAME` is not an alias,
    /// `NAME` is tried too.
    pub fn from_config(value: &str, aliases: &HashMap<String, String>) -> Result<Self> {
        let Some(alias) = value.strip_prefix(ALIAS_PREFIX) else {
            if value.trim().is_empty() {
                return Err(EdgeError::Certdir(
                    "certdir is empty; give a directory or alias://NAME".into(),
                ));
            }
            return Ok(Certdir::new(value));
        };
        let found = aliases.get(alias).or_else(|| {
            alias
                .strip_prefix("paths/")
                .and_then(|bare| aliases.get(bare))
        });
        match found {
            Some(dir) => Ok(Certdir::new(dir)),
            None => {
                let mut known: Vec<&str> = aliases.keys().map(String::as_str).collect();
                known.sort_unstable();
                Err(EdgeError::Certdir(format!(
                    "certdir {value}: no alias named '{alias}' in [aliases] (known: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )))
            }
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads `server.key` and `server.crt` from `dir`.
    pub fn load(dir: &Path) -> Result<ServedCertificate> {
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| EdgeError::Io {
                path: path.to_owned(),
                source,
            })
        };
        let in_file = |path: &Path, e: certfleet_pki::PkiError| {
            EdgeError::Certdir(format!("{}: {e}", path.display()))
        };
        let key = match bundle::read(&read(&key_path)?, None).map_err(|e| in_file(&key_path, e))? {
            Contents::Bundle(found) => found.key.ok_or_else(|| {
                EdgeError::Certdir(format!("{}: holds no private key", key_path.display()))
            })?,
            Contents::Request(_) => {
                return Err(EdgeError::Certdir(format!(
                    "{}: holds a certificate request, not a private key",
                    key_path.display()
                )))
            }
        };
        let certs =
            match bundle::read(&read(&cert_path)?, None).map_err(|e| in_file(&cert_path, e))? {
                Contents::Bundle(found) if found.leaf.is_some() && found.key.is_none() => {
                    found.certificates()
                }
                _ => {
                    return Err(EdgeError::Certdir(format!(
                        "{}: must hold the certificate and its chain, and nothing else",
                        cert_path.display()
                    )))
                }
            };
        let sorted = bundle::from_parts(Some(key), certs)
            .map_err(|e| EdgeError::Certdir(format!("{}: {e}", dir.display())))?;
        ServedCertificate::from_bundle(&sorted, false)
            .map_err(|e| EdgeError::Certdir(format!("{}: {e}", dir.display())))
    }

    /// Reads this certdir's files.
    pub fn load_now(&self) -> Result<ServedCertificate> {
        Certdir::load(&self.dir)
    }

    /// What should be fixed in `server.key` although it loads: a key block whose label
    /// does not match its body (read by its content), named with the file. `None` when
    /// there is nothing to say or the file does not read at all ([`Certdir::load`]
    /// reports that).
    pub fn key_notice(&self) -> Option<String> {
        let key_path = self.dir.join(KEY_FILE);
        let bytes = std::fs::read(&key_path).ok()?;
        let (_, notice) = bundle::read_noting(&bytes, None).ok()?;
        notice.map(|notice| format!("{}: {notice}", key_path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_and_unknown_ones_are_named() {
        let aliases = HashMap::from([("default_certdir".to_owned(), "/srv/cert".to_owned())]);
        let direct = Certdir::from_config("alias://default_certdir", &aliases).unwrap();
        assert_eq!(direct.dir(), Path::new("/srv/cert"));
        let manual = Certdir::from_config("alias://paths/default_certdir", &aliases).unwrap();
        assert_eq!(manual.dir(), Path::new("/srv/cert"));
        assert_eq!(
            Certdir::from_config("/etc/certs", &aliases).unwrap().dir(),
            Path::new("/etc/certs")
        );
        let err = Certdir::from_config("alias://nope", &aliases)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'nope'") && err.contains("default_certdir"),
            "{err}"
        );
    }
}
