//! The master key, and sealing and opening `CRYPT:` values with it (AES-256-GCM).
//!
//! A value is either unbound (version 1, opens anywhere) or bound to the field it was
//! sealed for (version 2): [`MasterKey::open_for`] refuses a bound value read from another
//! field, naming both. The text format is in [`super::sealed`].

use super::data_dir::{ensure_private_dir, write_private_file};
use super::sealed::{self, Header};
use crate::error::{Result, SecretError};
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
            .map_err(|_| SecretError::Secret("the random source failed".into()))?;
        Ok(MasterKey { bytes })
    }

    /// Reads a key from its base64 text (the file's content or the environment value).
    pub fn from_base64(text: &str, source: &str) -> Result<Self> {
        let decoded = Zeroizing::new(b64().decode(text.trim()).map_err(|_| {
            SecretError::Secret(format!("{source}: the master key is not valid base64"))
        })?);
        let bytes: [u8; KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            SecretError::Secret(format!(
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
            Err(source) => Err(SecretError::Io {
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
            SecretError::Secret(format!(
                "{}: the master key vanished after it was written",
                data_dir.join(MASTER_KEY_FILE).display()
            ))
        })
    }

    fn aead(&self) -> Result<LessSafeKey> {
        let unbound = UnboundKey::new(&AES_256_GCM, self.bytes.as_ref())
            .map_err(|_| SecretError::Secret("the master key is unusable".into()))?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Seals `plain` as an unbound `CRYPT:` value, which opens wherever it is written.
    pub fn seal(&self, plain: &[u8]) -> Result<String> {
        self.seal_with(plain, &Header::new(None)?)
    }

    /// Seals `plain` as a `CRYPT:` value bound to `field` (a configuration key path such
    /// as `route.basic_auth_password`, or a store record's key): it opens only through
    /// [`MasterKey::open_for`] with the same field.
    pub fn seal_for(&self, plain: &[u8], field: &str) -> Result<String> {
        self.seal_with(plain, &Header::new(Some(field))?)
    }

    fn seal_with(&self, plain: &[u8], header: &Header) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| SecretError::Secret("the random source failed".into()))?;
        let mut buffer = Zeroizing::new(plain.to_vec());
        self.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(header.aad.as_slice()),
                &mut *buffer,
            )
            .map_err(|_| SecretError::Secret("sealing failed".into()))?;
        let mut out = Vec::with_capacity(header.bytes.len() + NONCE_LEN + buffer.len());
        out.extend_from_slice(&header.bytes);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buffer);
        Ok(format!("{CRYPT_PREFIX}{}", b64().encode(out)))
    }

    /// The field a `CRYPT:` value is bound to; `None` for an unbound value.
    pub fn bound_field(sealed: &str) -> Result<Option<String>> {
        Ok(sealed::parse(&decode(sealed)?)?.field)
    }

    /// Opens any `CRYPT:` value sealed with this key, bound or not (`certfleet decrypt`).
    /// Code that reads a value from a known place uses [`MasterKey::open_for`].
    pub fn open(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>> {
        self.open_parsed(sealed::parse(&decode(sealed)?)?)
    }

    /// Opens a `CRYPT:` value read from `field`: an unbound value (sealed before values
    /// were bound) opens; a bound one only when it was sealed for `field`.
    pub fn open_for(&self, sealed: &str, field: &str) -> Result<Zeroizing<Vec<u8>>> {
        let parsed = sealed::parse(&decode(sealed)?)?;
        if let Some(bound) = parsed.field.as_deref().filter(|bound| *bound != field) {
            return Err(SecretError::Secret(format!(
                "the CRYPT: value was sealed for {bound}, not for {field}; values are not moved between fields: seal the secret again with `certfleet encrypt --for {field}`"
            )));
        }
        self.open_parsed(parsed)
    }

    fn open_parsed(&self, parsed: sealed::Parsed) -> Result<Zeroizing<Vec<u8>>> {
        let mut buffer = Zeroizing::new(parsed.sealed);
        let plain_len = self
            .aead()?
            .open_in_place(
                Nonce::assume_unique_for_key(parsed.nonce),
                Aad::from(parsed.header.aad.as_slice()),
                &mut buffer,
            )
            .map_err(|_| {
                SecretError::Secret(
                    "the CRYPT: value does not decrypt with this master key (sealed with another data directory's key, or altered)"
                        .into(),
                )
            })?
            .len();
        buffer.truncate(plain_len);
        Ok(buffer)
    }
}

/// The bytes after `CRYPT:`.
fn decode(sealed: &str) -> Result<Vec<u8>> {
    let body = sealed
        .trim()
        .strip_prefix(CRYPT_PREFIX)
        .ok_or_else(|| SecretError::Secret("the value does not start with CRYPT:".into()))?;
    b64()
        .decode(body)
        .map_err(|_| SecretError::Secret("the CRYPT: value is not valid base64".into()))
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
    fn a_bound_value_opens_only_in_its_field() {
        let key = MasterKey::generate().unwrap();
        let sealed = key
            .seal_for(b"gw-Pass1!", "route.basic_auth_password")
            .unwrap();
        assert_eq!(
            MasterKey::bound_field(&sealed).unwrap().as_deref(),
            Some("route.basic_auth_password")
        );
        let opened = key.open_for(&sealed, "route.basic_auth_password").unwrap();
        assert_eq!(opened.as_slice(), b"gw-Pass1!");
        assert_eq!(key.open(&sealed).unwrap().as_slice(), b"gw-Pass1!");

        let err = key
            .open_for(&sealed, "route.upstream_trust_password")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sealed for route.basic_auth_password"),
            "{err}"
        );
        assert!(
            err.contains("not for route.upstream_trust_password"),
            "{err}"
        );
        assert!(!err.contains("gw-Pass1!"), "{err}");
    }

    #[test]
    fn rewriting_the_bound_field_breaks_the_value() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal_for(b"x", "admin.aaaa").unwrap();
        let mut raw = decode(&sealed).unwrap();
        let at = raw.windows(4).position(|w| w == b"aaaa").unwrap();
        raw[at..at + 4].copy_from_slice(b"bbbb");
        let forged = format!("{CRYPT_PREFIX}{}", b64().encode(raw));
        assert_eq!(
            MasterKey::bound_field(&forged).unwrap().as_deref(),
            Some("admin.bbbb")
        );
        let err = key.open_for(&forged, "admin.bbbb").unwrap_err().to_string();
        assert!(err.contains("does not decrypt"), "{err}");
    }

    #[test]
    fn values_sealed_before_binding_still_open_anywhere() {
        // Sealed by the unbound format that every earlier release wrote.
        let key = MasterKey::generate().unwrap();
        let old = key.seal(b"storepwd").unwrap();
        assert_eq!(decode(&old).unwrap()[0], 1);
        assert_eq!(MasterKey::bound_field(&old).unwrap(), None);
        let opened = key.open_for(&old, "service.output.password").unwrap();
        assert_eq!(opened.as_slice(), b"storepwd");
        // A value of the version 1 format made outside certfleet (AES-256-GCM, key of 32
        // bytes 0x07, nonce 00..0b, associated data `certfleet CRYPT v1`).
        let fixed = MasterKey::from_base64(&b64().encode([7u8; KEY_LEN]), "test").unwrap();
        let written_before = "CRYPT:AQABAgMEBQYHCAkKC2v1hgJ4ea4tHQI5NJAZK+MO7PE6SG586g==";
        let opened = fixed.open_for(written_before, "route.basic_auth_password");
        assert_eq!(opened.unwrap().as_slice(), b"storepwd");
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
