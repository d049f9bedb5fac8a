//! The master key and the `CRYPT:` sealing format.
//!
//! Format: `CRYPT:` + base64 of `version (1) || nonce (12) || AES-256-GCM ciphertext+tag`,
//! with the associated data `certfleet CRYPT v1`, so a value sealed for another purpose
//! or tampered with does not open.

use super::data_dir::{ensure_private_dir, write_private_file};
use crate::error::{Result, StoreError};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::Engine;
use std::path::Path;
use zeroize::Zeroizing;

/// The prefix of sealed values.
pub const CRYPT_PREFIX: &str = "CRYPT:";
/// The environment variable that may carry the master key (base64 of 32 bytes).
pub const MASTER_KEY_ENV: &str = "CERTFLEET_MASTER_KEY";
/// The master key's file name inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

const VERSION: u8 = 1;
const AAD: &[u8] = b"certfleet CRYPT v1";
const KEY_LEN: usize = 32;

/// The key that seals secrets. Its bytes are zeroized on drop and never printed.
pub struct MasterKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        aws_lc_rs::rand::fill(bytes.as_mut())
            .map_err(|_| StoreError::Secret("the random source failed".into()))?;
        Ok(MasterKey { bytes })
    }

    /// Reads a key from its base64 text (the file's content or the environment value).
    pub fn from_base64(text: &str, source: &str) -> Result<Self> {
        let decoded = Zeroizing::new(b64().decode(text.trim()).map_err(|_| {
            StoreError::Secret(format!("{source}: the master key is not valid base64"))
        })?);
        let bytes: [u8; KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            StoreError::Secret(format!(
                "{source}: the master key must be {KEY_LEN} bytes, found {}",
                decoded.len()
            ))
        })?;
        Ok(MasterKey {
            bytes: Zeroizing::new(bytes),
        })
    }

    /// The key from `CERTFLEET_MASTER_KEY` if set, else from `data_dir/master.key`;
    /// `None` when neither exists.
    pub fn load(data_dir: &Path) -> Result<Option<Self>> {
        if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
            return MasterKey::from_base64(&text, MASTER_KEY_ENV).map(Some);
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                MasterKey::from_base64(&text, &path.display().to_string()).map(Some)
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Like [`MasterKey::load`], but creates the data directory (0700) and a new key file
    /// (0600) when there is no key yet.
    pub fn load_or_create(data_dir: &Path) -> Result<Self> {
        if let Some(key) = MasterKey::load(data_dir)? {
            return Ok(key);
        }
        ensure_private_dir(data_dir)?;
        let key = MasterKey::generate()?;
        let text = Zeroizing::new(format!("{}\n", b64().encode(key.bytes.as_ref())));
        write_private_file(&data_dir.join(MASTER_KEY_FILE), text.as_bytes(), false)?;
        // Another process may have created the key first: whatever is on disk wins.
        MasterKey::load(data_dir)?.ok_or_else(|| {
            StoreError::Secret(format!(
                "{}: the master key vanished after it was written",
                data_dir.join(MASTER_KEY_FILE).display()
            ))
        })
    }

    fn aead(&self) -> Result<LessSafeKey> {
        let unbound = UnboundKey::new(&AES_256_GCM, self.bytes.as_ref())
            .map_err(|_| StoreError::Secret("the master key is unusable".into()))?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Seals `plain` as a `CRYPT:` value.
    pub fn seal(&self, plain: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| StoreError::Secret("the random source failed".into()))?;
        let mut buffer = Zeroizing::new(plain.to_vec());
        self.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut *buffer,
            )
            .map_err(|_| StoreError::Secret("sealing failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buffer.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buffer);
        Ok(format!("{CRYPT_PREFIX}{}", b64().encode(out)))
    }

    /// Opens a `CRYPT:` value sealed with this key.
    pub fn open(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>> {
        let body = sealed
            .trim()
            .strip_prefix(CRYPT_PREFIX)
            .ok_or_else(|| StoreError::Secret("the value does not start with CRYPT:".into()))?;
        let raw = b64()
            .decode(body)
            .map_err(|_| StoreError::Secret("the CRYPT: value is not valid base64".into()))?;
        if raw.len() < 1 + NONCE_LEN + AES_256_GCM.tag_len() || raw[0] != VERSION {
            return Err(StoreError::Secret(
                "the CRYPT: value is truncated or of an unknown version".into(),
            ));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&raw[1..=NONCE_LEN]);
        let mut buffer = Zeroizing::new(raw[1 + NONCE_LEN..].to_vec());
        let plain_len = self
            .aead()?
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut buffer,
            )
            .map_err(|_| {
                StoreError::Secret(
                    "the CRYPT: value does not decrypt with this master key (sealed with another data directory's key, or altered)"
                        .into(),
                )
            })?
            .len();
        buffer.truncate(plain_len);
        Ok(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_differently_each_time_and_opens_only_with_its_key() {
        let key = MasterKey::generate().unwrap();
        let a = key.seal(b"s3cret!").unwrap();
        let b = key.seal(b"s3cret!").unwrap();
        assert!(a.starts_with(CRYPT_PREFIX));
        assert_ne!(a, b);
        assert_eq!(key.open(&a).unwrap().as_slice(), b"s3cret!");
        let other = MasterKey::generate().unwrap();
        assert!(other.open(&a).is_err());
        let mut tampered = a.clone();
        tampered.pop();
        tampered.push(if a.ends_with('A') { 'B' } else { 'A' });
        assert!(key.open(&tampered).is_err());
        assert!(!format!("{key:?}").contains(&b64().encode(key.bytes.as_ref())));
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = MasterKey::load_or_create(&data).unwrap();
        let again = MasterKey::load_or_create(&data).unwrap();
        let sealed = first.seal(b"x").unwrap();
        assert_eq!(again.open(&sealed).unwrap().as_slice(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.join(MASTER_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(&data).unwrap().permissions().mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
    }
}
