//! The JKS container: certfleet's own reader and writer (docs/DESIGN.md, "JKS").
//!
//! Layout, all integers big-endian:
//!
//! ```text
//! magic FE ED FE ED | version (1 or 2) | entry count
//! per entry: tag (1 = private key, 2 = trusted certificate) | alias (modified UTF-8,
//!            16-bit length) | creation time (ms since 1970, 64 bits)
//!   tag 1: protected key (32-bit length + EncryptedPrivateKeyInfo) | chain length |
//!          per certificate: [type "X.509", version 2 only] | 32-bit length + DER
//!   tag 2: [type "X.509", version 2 only] | 32-bit length + DER
//! SHA-1 integrity digest (20 bytes), see `jks_key::integrity_digest`
//! ```
//!
//! The digest is checked before anything else is parsed, so a wrong store password or any
//! damage is reported as such. Tag 3 (secret keys) belongs to JCEKS and is refused.

use super::jks_io::{put_blob, put_count, put_u32, put_u64, put_utf, Reader};
use super::jks_key::{integrity_digest, protect, unprotect};
use super::{Entry, Keystore};
use crate::FormatError;
use std::time::{SystemTime, UNIX_EPOCH};

/// The first four bytes of a JKS file.
pub(super) const MAGIC: u32 = 0xFEED_FEED;
/// The first four bytes of a JCEKS file (not supported).
pub(super) const JCEKS_MAGIC: u32 = 0xCECE_CECE;
const VERSION: u32 = 2;
const TAG_PRIVATE_KEY: u32 = 1;
const TAG_TRUSTED: u32 = 2;
const TAG_SECRET_KEY: u32 = 3;
const CERT_TYPE: &str = "X.509";
const DIGEST_LEN: usize = 20;

/// Reads a JKS file; keys are decrypted with `key_password`.
pub(super) fn read(
    bytes: &[u8],
    store_password: &str,
    key_password: &str,
) -> Result<Keystore, FormatError> {
    if bytes.len() < 12 + DIGEST_LEN {
        return Err(FormatError::Keystore("JKS file cut short".into()));
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    if integrity_digest(store_password, body) != digest {
        return Err(FormatError::WrongPassword);
    }
    let mut reader = Reader::new(body);
    if reader.u32()? != MAGIC {
        return Err(FormatError::Keystore("not a JKS file".into()));
    }
    let version = reader.u32()?;
    if version != 1 && version != 2 {
        return Err(FormatError::UnsupportedKeystore(format!(
            "JKS version {version}"
        )));
    }
    let count = reader.u32()?;
    let mut store = Keystore::new();
    for number in 1..=count {
        let tag = reader.u32()?;
        let alias = reader.utf()?;
        let _created_ms = reader.u64()?;
        let entry = match tag {
            TAG_PRIVATE_KEY => {
                let protected = reader.blob()?;
                let chain_len = reader.u32()?;
                if chain_len == 0 {
                    return Err(FormatError::Keystore(format!(
                        "entry '{alias}': a private key without its certificate"
                    )));
                }
                let mut chain = Vec::new();
                for _ in 0..chain_len {
                    chain.push(read_certificate(&mut reader, version, &alias)?);
                }
                Entry::PrivateKey {
                    pkcs8_der: unprotect(protected, key_password, &alias)?,
                    alias,
                    chain,
                }
            }
            TAG_TRUSTED => Entry::Trusted {
                cert_der: read_certificate(&mut reader, version, &alias)?,
                alias,
            },
            TAG_SECRET_KEY => {
                return Err(FormatError::UnsupportedKeystore(format!(
                    "entry '{alias}' is a secret key (a JCEKS feature)"
                )))
            }
            other => {
                return Err(FormatError::Keystore(format!(
                    "entry {number}: unknown entry tag {other}"
                )))
            }
        };
        store.entries.push(entry);
    }
    if !reader.is_empty() {
        return Err(FormatError::Keystore(
            "unexpected bytes after the last entry".into(),
        ));
    }
    Ok(store)
}

fn read_certificate(
    reader: &mut Reader<'_>,
    version: u32,
    alias: &str,
) -> Result<Vec<u8>, FormatError> {
    if version == 2 {
        let kind = reader.utf()?;
        if kind != CERT_TYPE {
            return Err(FormatError::UnsupportedKeystore(format!(
                "entry '{alias}': certificate type {kind:.20}"
            )));
        }
    }
    Ok(reader.blob()?.to_vec())
}

/// Writes a JKS file. Aliases go out in lower case, which is how Java looks them up.
pub(super) fn write(
    store: &Keystore,
    store_password: &str,
    key_password: &str,
) -> Result<Vec<u8>, FormatError> {
    let created_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut out = Vec::new();
    put_u32(&mut out, MAGIC);
    put_u32(&mut out, VERSION);
    put_count(&mut out, store.entries.len())?;
    for entry in &store.entries {
        let tag = if entry.is_private_key() {
            TAG_PRIVATE_KEY
        } else {
            TAG_TRUSTED
        };
        put_u32(&mut out, tag);
        put_utf(&mut out, &entry.alias().to_lowercase())?;
        put_u64(&mut out, created_ms);
        match entry {
            Entry::PrivateKey {
                pkcs8_der, chain, ..
            } => {
                put_blob(&mut out, &protect(pkcs8_der, key_password)?)?;
                put_count(&mut out, chain.len())?;
                for cert in chain {
                    put_certificate(&mut out, cert)?;
                }
            }
            Entry::Trusted { cert_der, .. } => put_certificate(&mut out, cert_der)?,
        }
    }
    let digest = integrity_digest(store_password, &out);
    out.extend_from_slice(&digest);
    Ok(out)
}

fn put_certificate(out: &mut Vec<u8>, der: &[u8]) -> Result<(), FormatError> {
    put_utf(out, CERT_TYPE)?;
    put_blob(out, der)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_store(password: &str) -> Vec<u8> {
        write(&Keystore::new(), password, password).unwrap()
    }

    #[test]
    fn an_empty_store_round_trips() {
        let bytes = empty_store("changeit");
        assert_eq!(&bytes[..4], &[0xFE, 0xED, 0xFE, 0xED]);
        assert_eq!(bytes.len(), 12 + DIGEST_LEN);
        assert!(read(&bytes, "changeit", "changeit")
            .unwrap()
            .entries
            .is_empty());
    }

    #[test]
    fn wrong_password_and_damage_are_errors() {
        let bytes = empty_store("changeit");
        assert_eq!(
            read(&bytes, "nope", "nope").unwrap_err(),
            FormatError::WrongPassword
        );
        for cut in 0..bytes.len() {
            assert!(read(&bytes[..cut], "changeit", "changeit").is_err());
        }
    }

    #[test]
    fn a_validly_sealed_but_damaged_body_is_an_error() {
        // An entry count of 5 with no entries, resealed with the right digest.
        let mut body = Vec::new();
        put_u32(&mut body, MAGIC);
        put_u32(&mut body, VERSION);
        put_u32(&mut body, 5);
        let digest = integrity_digest("pw", &body);
        body.extend_from_slice(&digest);
        assert!(matches!(
            read(&body, "pw", "pw"),
            Err(FormatError::Keystore(_))
        ));
    }
}
