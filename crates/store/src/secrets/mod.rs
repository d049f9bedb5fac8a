//! Secrets: the master key, `CRYPT:` values, and shared-secret policy.
//!
//! - [`MasterKey`]: 32 random bytes kept in `DATA_DIR/master.key` (mode 0600) or given
//!   in the environment as `CERTFLEET_MASTER_KEY` (base64); it seals private keys at
//!   rest and every `CRYPT:` value.
//! - [`MasterKey::seal`] / [`MasterKey::open`]: AES-256-GCM with a fresh random nonce per
//!   value, so sealing the same secret twice gives different text.
//! - [`resolve`]: what every configuration loader calls for a string value: `CRYPT:...`
//!   is decrypted, anything else is taken as plain text.
//! - [`policy`]: checking and generating shared secrets (8 to 64 characters with upper,
//!   lower, digit and special).

mod data_dir;
mod master_key;
pub mod policy;

pub use data_dir::{ensure_private_dir, write_private_file};
pub use master_key::{MasterKey, CRYPT_PREFIX, MASTER_KEY_ENV, MASTER_KEY_FILE};

use crate::error::Result;
use zeroize::Zeroizing;

/// Resolves a configuration value: `CRYPT:...` is decrypted with `key`, anything else is
/// returned as written. A `CRYPT:` value without a master key is an error.
pub fn resolve(value: &str, key: Option<&MasterKey>) -> Result<Zeroizing<String>> {
    if value.starts_with(CRYPT_PREFIX) {
        let key = key.ok_or_else(|| {
            crate::StoreError::Secret(
                "a CRYPT: value needs the master key (data directory or CERTFLEET_MASTER_KEY)"
                    .into(),
            )
        })?;
        let plain = key.open(value)?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| {
            crate::StoreError::Secret("the CRYPT: value does not decrypt to text".into())
        })?;
        Ok(Zeroizing::new(text))
    } else {
        Ok(Zeroizing::new(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_pass_and_crypt_values_decrypt() {
        let key = MasterKey::generate().unwrap();
        assert_eq!(resolve("storepwd", None).unwrap().as_str(), "storepwd");
        let sealed = key.seal(b"storepwd").unwrap();
        assert_eq!(resolve(&sealed, Some(&key)).unwrap().as_str(), "storepwd");
        assert!(resolve(&sealed, None).is_err());
    }
}
