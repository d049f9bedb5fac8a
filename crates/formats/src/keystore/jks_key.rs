//! How JKS protects a private key: Sun's proprietary scheme (OID 1.3.6.1.4.1.42.2.17.1.1).
//!
//! The PKCS#8 key is XORed with a keystream made by chaining SHA-1 over the password
//! (UTF-16BE) and the previous block, starting from a 20-byte random salt. The stored blob
//! is `salt ‖ masked key ‖ SHA-1(password ‖ key)`, wrapped in an
//! `EncryptedPrivateKeyInfo` whose algorithm is the OID above with NULL parameters. The
//! trailing digest is how a wrong key password is recognised.
//!
//! It is weak (one SHA-1 per 20 bytes, no iteration count): JKS is written only because
//! services ask for it, and PKCS#12 is the better choice wherever it is accepted.

use crate::FormatError;
use ::pkcs12::cms::cert::x509::spki::AlgorithmIdentifierOwned;
use ::pkcs12::pbe_params::EncryptedPrivateKeyInfo;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode};
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

const SUN_KEY_PROTECTOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.42.2.17.1.1");
const SALT_LEN: usize = 20;
const DIGEST_LEN: usize = 20;

/// The password as Java hands it to the digests: each UTF-16 unit big-endian.
pub(super) fn password_bytes(password: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(password.len() * 2));
    for unit in password.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out
}

fn keystream(password: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut stream = Zeroizing::new(Vec::with_capacity(len + DIGEST_LEN));
    let mut block = salt.to_vec();
    while stream.len() < len {
        block = Sha1::new()
            .chain_update(password)
            .chain_update(&block)
            .finalize()
            .to_vec();
        stream.extend_from_slice(&block);
    }
    stream.truncate(len);
    stream
}

fn check_digest(password: &[u8], key: &[u8]) -> Vec<u8> {
    Sha1::new()
        .chain_update(password)
        .chain_update(key)
        .finalize()
        .to_vec()
}

/// Protects a PKCS#8 key with `password`; returns the DER `EncryptedPrivateKeyInfo`.
pub(super) fn protect(pkcs8: &[u8], password: &str) -> Result<Vec<u8>, FormatError> {
    let password = password_bytes(password);
    let mut salt = [0u8; SALT_LEN];
    getrandom::getrandom(&mut salt)
        .map_err(|_| FormatError::Keystore("no randomness for the key salt".into()))?;
    let stream = keystream(&password, &salt, pkcs8.len());
    let mut blob = Vec::with_capacity(SALT_LEN + pkcs8.len() + DIGEST_LEN);
    blob.extend_from_slice(&salt);
    blob.extend(pkcs8.iter().zip(stream.iter()).map(|(k, s)| k ^ s));
    blob.extend_from_slice(&check_digest(&password, pkcs8));
    let info = EncryptedPrivateKeyInfo {
        encryption_algorithm: AlgorithmIdentifierOwned {
            oid: SUN_KEY_PROTECTOR,
            parameters: Some(Any::null()),
        },
        encrypted_data: OctetString::new(blob).map_err(encode_error)?,
    };
    info.to_der().map_err(encode_error)
}

fn encode_error(err: der::Error) -> FormatError {
    FormatError::Keystore(format!("cannot encode a JKS key: {err}"))
}

/// Recovers the PKCS#8 key of entry `alias` from its `EncryptedPrivateKeyInfo`.
pub(super) fn unprotect(
    der: &[u8],
    password: &str,
    alias: &str,
) -> Result<Zeroizing<Vec<u8>>, FormatError> {
    let info = EncryptedPrivateKeyInfo::from_der(der).map_err(|_| {
        FormatError::Keystore(format!("entry '{alias}': the protected key is malformed"))
    })?;
    if info.encryption_algorithm.oid != SUN_KEY_PROTECTOR {
        return Err(FormatError::UnsupportedKeystore(format!(
            "entry '{alias}': key protected with {}, not the JKS scheme",
            info.encryption_algorithm.oid
        )));
    }
    let blob = info.encrypted_data.as_bytes();
    if blob.len() <= SALT_LEN + DIGEST_LEN {
        return Err(FormatError::Keystore(format!(
            "entry '{alias}': the protected key is too short"
        )));
    }
    let (salt, rest) = blob.split_at(SALT_LEN);
    let (masked, digest) = rest.split_at(rest.len() - DIGEST_LEN);
    let password = password_bytes(password);
    let stream = keystream(&password, salt, masked.len());
    let key = Zeroizing::new(
        masked
            .iter()
            .zip(stream.iter())
            .map(|(m, s)| m ^ s)
            .collect::<Vec<u8>>(),
    );
    if check_digest(&password, &key) != digest {
        return Err(FormatError::WrongKeyPassword(alias.to_owned()));
    }
    Ok(key)
}

/// The integrity digest that ends a JKS file: SHA-1 over the store password (UTF-16BE),
/// the words "Mighty Aphrodite", and every byte before the digest.
pub(super) fn integrity_digest(password: &str, body: &[u8]) -> Vec<u8> {
    Sha1::new()
        .chain_update(password_bytes(password).as_slice())
        .chain_update(b"Mighty Aphrodite")
        .chain_update(body)
        .finalize()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_a_wrong_password_is_named() {
        let key = b"\x30\x03\x02\x01\x00 pretend this is a PKCS#8 key of some length".to_vec();
        let protected = protect(&key, "s3cret").unwrap();
        assert_eq!(*unprotect(&protected, "s3cret", "web").unwrap(), key);
        let err = unprotect(&protected, "wrong", "web").unwrap_err();
        assert_eq!(err, FormatError::WrongKeyPassword("web".into()));
        assert!(!err.to_string().contains("wrong\""));
    }

    #[test]
    fn malformed_blobs_are_errors() {
        assert!(unprotect(&[0x30, 0x00], "p", "a").is_err());
        assert!(unprotect(&[], "p", "a").is_err());
        let short = protect(b"", "p").unwrap();
        assert!(matches!(
            unprotect(&short, "p", "a"),
            Err(FormatError::Keystore(_))
        ));
    }

    #[test]
    fn password_bytes_are_utf16_big_endian() {
        assert_eq!(*password_bytes("aé"), vec![0, b'a', 0, 0xE9]);
    }
}
