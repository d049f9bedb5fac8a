//! The `CRYPT:` text format: its two versions, the field a value is bound to, and the
//! associated data that authenticates that binding.
//!
//! After `CRYPT:` comes base64 of one of:
//!
//! - version 1 (unbound): `01 || nonce (12) || ciphertext+tag`, associated data
//!   `certfleet CRYPT v1`. Such a value opens wherever it is written.
//! - version 2 (bound): `02 || field length (1) || field (ASCII) || nonce (12) ||
//!   ciphertext+tag`, associated data `certfleet CRYPT v2` followed by every byte before
//!   the nonce. The field (for example `route.basic_auth_password`) is readable so that a
//!   value found in the wrong place can be named, and authenticated so that rewriting it
//!   makes the value fail to open.

use crate::error::{Result, SecretError};
use aws_lc_rs::aead::{AES_256_GCM, NONCE_LEN};

/// The version byte of unbound values.
const UNBOUND: u8 = 1;
/// The version byte of values bound to a field.
const BOUND: u8 = 2;
const UNBOUND_AAD: &[u8] = b"certfleet CRYPT v1";
const BOUND_AAD_LABEL: &[u8] = b"certfleet CRYPT v2";
/// The longest field name a value can be bound to (its length is one byte).
pub const MAX_FIELD_LEN: usize = 255;

/// The bytes of a sealed value before its nonce, and the associated data they imply.
pub(super) struct Header {
    /// `01`, or `02 || length || field`.
    pub bytes: Vec<u8>,
    /// What the cipher authenticates besides the ciphertext.
    pub aad: Vec<u8>,
}

/// A `CRYPT:` value taken apart.
pub(super) struct Parsed {
    pub header: Header,
    /// The field a bound value was sealed for; `None` for version 1.
    pub field: Option<String>,
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the tag.
    pub sealed: Vec<u8>,
}

fn secret_error(message: impl Into<String>) -> SecretError {
    SecretError::Secret(message.into())
}

/// Checks a field name: 1 to 255 printable ASCII characters without spaces.
pub fn check_field(field: &str) -> Result<()> {
    if field.is_empty() || field.len() > MAX_FIELD_LEN {
        return Err(secret_error(format!(
            "a CRYPT: value is bound to a field name of 1 to {MAX_FIELD_LEN} characters"
        )));
    }
    if !field.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(secret_error(format!(
            "'{field}' cannot bind a CRYPT: value: use printable ASCII without spaces"
        )));
    }
    Ok(())
}

impl Header {
    /// The header of a new value, bound to `field` when given.
    pub(crate) fn new(field: Option<&str>) -> Result<Header> {
        let Some(field) = field else {
            return Ok(Header {
                bytes: vec![UNBOUND],
                aad: UNBOUND_AAD.to_vec(),
            });
        };
        check_field(field)?;
        let length = u8::try_from(field.len())
            .map_err(|_| secret_error("the field name is too long to bind"))?;
        let mut bytes = vec![BOUND, length];
        bytes.extend_from_slice(field.as_bytes());
        let aad = [BOUND_AAD_LABEL, &bytes].concat();
        Ok(Header { bytes, aad })
    }
}

/// Splits the decoded bytes of a `CRYPT:` value into header, nonce and sealed bytes.
pub(super) fn parse(raw: &[u8]) -> Result<Parsed> {
    let truncated = || secret_error("the CRYPT: value is truncated");
    let (field, header_len) = match raw.first() {
        Some(&UNBOUND) => (None, 1),
        Some(&BOUND) => {
            let length = usize::from(*raw.get(1).ok_or_else(truncated)?);
            let name = raw.get(2..2 + length).ok_or_else(truncated)?;
            let name = std::str::from_utf8(name)
                .ok()
                .filter(|n| check_field(n).is_ok())
                .ok_or_else(|| secret_error("the CRYPT: value names its field in a bad form"))?;
            (Some(name.to_owned()), 2 + length)
        }
        Some(other) => {
            return Err(secret_error(format!(
                "the CRYPT: value is of an unknown version ({other}); a newer certfleet sealed it"
            )))
        }
        None => return Err(truncated()),
    };
    if raw.len() < header_len + NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(truncated());
    }
    let header = Header::new(field.as_deref())?;
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&raw[header_len..header_len + NONCE_LEN]);
    Ok(Parsed {
        header,
        field,
        nonce,
        sealed: raw[header_len + NONCE_LEN..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_bad_fields_are_refused() {
        let bound = Header::new(Some("route.basic_auth_password")).unwrap();
        let mut raw = bound.bytes.clone();
        raw.extend_from_slice(&[0u8; NONCE_LEN + 16]);
        let parsed = parse(&raw).unwrap();
        assert_eq!(parsed.field.as_deref(), Some("route.basic_auth_password"));
        assert_eq!(parsed.header.aad, bound.aad);
        assert!(Header::new(Some("")).is_err());
        assert!(Header::new(Some("has space")).is_err());
        assert!(Header::new(Some(&"x".repeat(256))).is_err());
        let unknown = parse(&[9, 0, 0]).err().map(|e| e.to_string());
        assert!(unknown.unwrap_or_default().contains("version"));
        assert!(parse(&[BOUND, 40, b'a']).is_err());
    }
}
