//! certfleet-secrets: the master key, `CRYPT:` values, and shared-secret policy; a
//! crate of its own so that whatever needs a secret (the platform model, the server's
//! configuration, the store's sealed records) needs nothing else.
//!
//! - [`MasterKey`]: 32 random bytes kept in `DATA_DIR/master.key` (mode 0600) or given
//!   in the environment as `CERTFLEET_MASTER_KEY` (base64); it seals private keys at
//!   rest and every `CRYPT:` value.
//! - [`MasterKey::seal_for`] / [`MasterKey::open_for`]: AES-256-GCM with a fresh random
//!   nonce per value, so sealing the same secret twice gives different text, bound to the
//!   field it is sealed for (a value copied into another field does not open there).
//!   Values sealed unbound ([`MasterKey::seal`], every value of earlier releases) still
//!   open in any field.
//! - [`resolve_for`]: what every configuration loader calls for a string value at a known
//!   field: `CRYPT:...` is decrypted, anything else is taken as plain text.
//! - [`ensure_private_dir`], [`write_private_file`]: the data directory (0700) and the
//!   files in it that only the owner may read (0600);
//! - [`arg`]: passwords and tokens given on the command line (a value, `pass:`, `env:`,
//!   `file:`, `-` or asked for on the terminal), read once and kept zeroized;
//! - [`policy`]: checking and generating shared secrets (8 to 64 characters with upper,
//!   lower, digit and special).

pub mod arg;
mod data_dir;
mod error;
mod master_key;
pub mod policy;
mod sealed;

pub use data_dir::{ensure_private_dir, write_private_file};
pub use error::{Result, SecretError};
pub use master_key::{MasterKey, CRYPT_PREFIX, MASTER_KEY_ENV, MASTER_KEY_FILE};
pub use sealed::{check_field, MAX_FIELD_LEN};

use zeroize::Zeroizing;

/// Resolves a configuration value: `CRYPT:...` is decrypted with `key`, anything else is
/// returned as written. A `CRYPT:` value without a master key is an error. Bound values
/// open here whatever their field; readers that know the field use [`resolve_for`].
pub fn resolve(value: &str, key: Option<&MasterKey>) -> Result<Zeroizing<String>> {
    resolve_with(value, key, None)
}

/// Resolves the configuration value found at `field` (its key path without array
/// positions, e.g. `route.basic_auth_password`): a `CRYPT:` value bound to another field
/// is refused, naming both.
pub fn resolve_for(value: &str, key: Option<&MasterKey>, field: &str) -> Result<Zeroizing<String>> {
    resolve_with(value, key, Some(field))
}

fn resolve_with(
    value: &str,
    key: Option<&MasterKey>,
    field: Option<&str>,
) -> Result<Zeroizing<String>> {
    if value.starts_with(CRYPT_PREFIX) {
        let key = key.ok_or_else(|| {
            SecretError::Secret(
                "a CRYPT: value needs the master key (data directory or CERTFLEET_MASTER_KEY)"
                    .into(),
            )
        })?;
        let plain = match field {
            Some(field) => key.open_for(value, field)?,
            None => key.open(value)?,
        };
        let text = String::from_utf8(plain.to_vec())
            .map_err(|_| SecretError::Secret("the CRYPT: value does not decrypt to text".into()))?;
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

    #[test]
    fn a_value_moved_to_another_field_is_refused() {
        let key = MasterKey::generate().unwrap();
        let sealed = key
            .seal_for(b"storepwd", "service.output.password")
            .unwrap();
        let opened = resolve_for(&sealed, Some(&key), "service.output.password").unwrap();
        assert_eq!(opened.as_str(), "storepwd");
        let err = resolve_for(&sealed, Some(&key), "service.output.key_password")
            .unwrap_err()
            .to_string();
        assert!(err.contains("service.output.password"), "{err}");
        assert!(!err.contains("storepwd"), "{err}");
    }
}
