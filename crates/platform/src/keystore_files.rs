//! Keystore files as `certfleet keystore` edits them: opened from disk (or begun empty
//! when missing, as JKS or PKCS#12 by the type asked for or the file's name) and written
//! back atomically with mode 0600. Errors name the file.

use crate::files::{read_input, Mode, OutputSet};
use anyhow::{Context, Result};
use certfleet_formats::keystore::{self, KeystoreFormat, OpenedKeystore};
use std::path::{Path, PathBuf};

/// Reads the keystore at `path`; JKS keys under `key_password` when it is given.
pub fn open_keystore(
    path: &Path,
    password: &str,
    key_password: Option<&str>,
) -> Result<OpenedKeystore> {
    let bytes = read_input(path)?;
    OpenedKeystore::read(&bytes, password, key_password).with_context(|| path.display().to_string())
}

/// The keystore at `path` opened by `open` (refused when it is not of the `wanted`
/// format), or a new empty one when the file does not exist yet.
pub fn open_or_create_keystore(
    path: &Path,
    wanted: Option<KeystoreFormat>,
    open: impl FnOnce() -> Result<OpenedKeystore>,
) -> Result<OpenedKeystore> {
    if path.exists() {
        let opened = open()?;
        opened
            .require_format(wanted)
            .with_context(|| path.display().to_string())?;
        return Ok(opened);
    }
    let format = match wanted {
        Some(wanted) => wanted,
        None => keystore::format_from_name(path)?,
    };
    Ok(OpenedKeystore::empty(format))
}

/// Writes `opened` to `path` under `password` (and JKS keys under `key_password`),
/// replacing the file atomically, mode 0600. Returns the paths written.
pub fn save_keystore(
    path: &Path,
    opened: &OpenedKeystore,
    password: &str,
    key_password: Option<&str>,
) -> Result<Vec<PathBuf>> {
    let bytes = opened
        .to_bytes(password, key_password)
        .with_context(|| path.display().to_string())?;
    let mut set = OutputSet::default();
    set.add(path, bytes, Mode::Secret);
    set.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_begins_empty_in_the_format_its_name_says() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trust.p12");
        let opened = open_or_create_keystore(&path, None, || unreachable!()).unwrap();
        assert_eq!(opened.format, KeystoreFormat::Pkcs12);
        let written = save_keystore(&path, &opened, "changeit", None).unwrap();
        assert_eq!(written, vec![path.clone()]);
        let again = open_or_create_keystore(&path, Some(KeystoreFormat::Jks), || {
            open_keystore(&path, "changeit", None)
        });
        assert!(again.is_err(), "a PKCS#12 file is not taken as JKS");
        assert!(open_keystore(&path, "changeit", None)
            .unwrap()
            .store
            .entries
            .is_empty());
    }
}
