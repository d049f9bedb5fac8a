//! Password-encrypted PKCS#8 keys (`ENCRYPTED PRIVATE KEY`, RFC 5958 / PKCS#5 PBES2).
//!
//! [`encrypt`] writes PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, what
//! `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes, with a random salt and IV.
//! [`decrypt`] reads PBES2 with PBKDF2 (HMAC-SHA1/SHA-224/256/384/512) or scrypt and
//! AES-128/192/256-CBC or 3DES-CBC (`-v2 des3`). PBES1 (`-v1 ...`) is refused with a
//! hint. Work factors in the input are capped, so a crafted file cannot make a read
//! run for hours or take gigabytes of memory.
//!
//! ```
//! use certfleet_formats::encrypted_key;
//! // A PKCS#8 structure is opaque here: any DER the reader accepts as PrivateKeyInfo.
//! let pkcs8 = [0x30, 0x0e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
//!              0x04, 0x02, 0x04, 0x00];
//! let sealed = encrypted_key::encrypt_with_iterations(&pkcs8, "s3cret", 1000).unwrap();
//! assert!(encrypted_key::is_encrypted(&sealed));
//! assert_eq!(encrypted_key::decrypt(&sealed, "s3cret").unwrap().as_slice(), &pkcs8);
//! assert_eq!(
//!     encrypted_key::decrypt(&sealed, "wrong"),
//!     Err(encrypted_key::EncryptedKeyError::WrongPassword)
//! );
//! ```

use pkcs8::der::{Decode, Encode};
use pkcs8::pkcs5::{self, pbes2};
use pkcs8::{EncryptedPrivateKeyInfo, ObjectIdentifier};
use zeroize::Zeroizing;

/// The PEM label of an encrypted PKCS#8 key.
pub const PEM_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// PBKDF2 iterations used when writing (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
pub const WRITE_ITERATIONS: u32 = 600_000;

/// Highest PBKDF2 iteration count accepted when reading.
const MAX_ITERATIONS: u32 = 10_000_000;

/// Highest scrypt memory (128 · r · N bytes) accepted when reading: 256 MiB.
const MAX_SCRYPT_MEMORY: u64 = 256 << 20;

/// Why an encrypted key could not be read or written. Never carries key material or
/// the password.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptedKeyError {
    /// The bytes are not an `EncryptedPrivateKeyInfo` structure.
    #[error("not an encrypted PKCS#8 key: {0}")]
    Malformed(String),
    /// A scheme or parameter this reader does not support.
    #[error("{0}")]
    Unsupported(String),
    /// Decryption failed: the password is wrong (or the ciphertext was altered).
    #[error("wrong password (or the encrypted key is corrupted)")]
    WrongPassword,
    /// Encryption failed (no randomness from the operating system, an empty password).
    #[error("cannot encrypt the key: {0}")]
    Encrypt(String),
}

/// True when `der` is an `EncryptedPrivateKeyInfo`: PBES2, or an older password-based
/// scheme (PBES1, PKCS#12 PBE) that [`decrypt`] refuses with a hint.
pub fn is_encrypted(der: &[u8]) -> bool {
    EncryptedPrivateKeyInfo::from_der(der).is_ok() || legacy_scheme(der).is_some()
}

/// A short description of the encryption, e.g. `PBES2 (PBKDF2-hmacWithSHA256, aes256-CBC)`.
pub fn describe(der: &[u8]) -> Result<String, EncryptedKeyError> {
    let info = parse(der)?;
    Ok(match info.encryption_algorithm.pbes2() {
        Some(params) => {
            format!(
                "PBES2 ({}, {})",
                kdf_name(&params.kdf),
                cipher_name(&params.encryption)
            )
        }
        None => "PBES1".to_owned(),
    })
}

/// Decrypts an encrypted PKCS#8 key, returning the plain PKCS#8 DER.
pub fn decrypt(der: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, EncryptedKeyError> {
    let info = parse(der)?;
    let Some(params) = info.encryption_algorithm.pbes2() else {
        return Err(EncryptedKeyError::Unsupported(
            "PBES1 encryption (openssl -v1) is not supported; re-encrypt with \
             `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                .into(),
        ));
    };
    check_cost(params)?;
    let plain = params
        .decrypt(password, info.encrypted_data)
        .map_err(|err| match err {
            // pkcs5 reports a bad CBC padding (the usual sign of a wrong password) as
            // EncryptFailed.
            pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed => {
                EncryptedKeyError::WrongPassword
            }
            other => unsupported(other, params),
        })?;
    let plain = Zeroizing::new(plain);
    // A wrong password passes the CBC padding check about once in 256 tries; what comes
    // out then is not a PrivateKeyInfo.
    if pkcs8::PrivateKeyInfo::from_der(&plain).is_err() {
        return Err(EncryptedKeyError::WrongPassword);
    }
    Ok(plain)
}

/// Encrypts PKCS#8 DER under `password` with PBES2 (PBKDF2-HMAC-SHA256,
/// [`WRITE_ITERATIONS`] iterations, AES-256-CBC), returning `EncryptedPrivateKeyInfo` DER.
pub fn encrypt(pkcs8_der: &[u8], password: &str) -> Result<Vec<u8>, EncryptedKeyError> {
    encrypt_with_iterations(pkcs8_der, password, WRITE_ITERATIONS)
}

/// Like [`encrypt`] with a chosen PBKDF2 iteration count (tests use small ones).
pub fn encrypt_with_iterations(
    pkcs8_der: &[u8],
    password: &str,
    iterations: u32,
) -> Result<Vec<u8>, EncryptedKeyError> {
    if password.is_empty() {
        return Err(EncryptedKeyError::Encrypt(
            "the password must not be empty".into(),
        ));
    }
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .and_then(|()| getrandom::getrandom(&mut iv))
        .map_err(|e| EncryptedKeyError::Encrypt(format!("no random numbers: {e}")))?;
    let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(iterations, &salt, &iv)
        .map_err(|e| EncryptedKeyError::Encrypt(e.to_string()))?;
    let encrypted_data = params
        .encrypt(password, pkcs8_der)
        .map_err(|e| EncryptedKeyError::Encrypt(e.to_string()))?;
    EncryptedPrivateKeyInfo {
        encryption_algorithm: params.into(),
        encrypted_data: &encrypted_data,
    }
    .to_der()
    .map_err(|e| EncryptedKeyError::Encrypt(e.to_string()))
}

fn parse(der: &[u8]) -> Result<EncryptedPrivateKeyInfo<'_>, EncryptedKeyError> {
    EncryptedPrivateKeyInfo::from_der(der).map_err(|e| match legacy_scheme(der) {
        Some(oid) => EncryptedKeyError::Unsupported(format!(
            "{oid}: PBES1 or PKCS#12 password-based encryption (openssl -v1) is not supported; \
             re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
        )),
        None => EncryptedKeyError::Malformed(e.to_string()),
    })
}

/// The OID of an `EncryptedPrivateKeyInfo` whose scheme is PBES1 (1.2.840.113549.1.5.x
/// below PBES2) or PKCS#12 PBE (1.2.840.113549.1.12.1.x), which the pkcs8 crate does not
/// parse.
fn legacy_scheme(der: &[u8]) -> Option<ObjectIdentifier> {
    use pkcs8::der::asn1::OctetStringRef;
    use pkcs8::der::{Reader, SliceReader};
    let mut reader = SliceReader::new(der).ok()?;
    let oid = reader
        .sequence(|r| {
            let alg = pkcs8::spki::AlgorithmIdentifierRef::decode(r)?;
            OctetStringRef::decode(r)?;
            Ok(alg.oid)
        })
        .ok()?;
    let arcs: Vec<u32> = oid.arcs().collect();
    let pbes1 =
        arcs.starts_with(&[1, 2, 840, 113549, 1, 5]) && arcs.get(6).is_some_and(|a| *a < 13);
    let pkcs12 = arcs.starts_with(&[1, 2, 840, 113549, 1, 12, 1]);
    (pbes1 || pkcs12).then_some(oid)
}

fn check_cost(params: &pbes2::Parameters<'_>) -> Result<(), EncryptedKeyError> {
    match &params.kdf {
        pbes2::Kdf::Pbkdf2(p) if p.iteration_count > MAX_ITERATIONS => {
            Err(EncryptedKeyError::Unsupported(format!(
                "PBKDF2 iteration count {} is above the accepted maximum {MAX_ITERATIONS}",
                p.iteration_count
            )))
        }
        pbes2::Kdf::Scrypt(s) => {
            let memory = 128u64
                .saturating_mul(u64::from(s.block_size))
                .saturating_mul(s.cost_parameter);
            let work = memory.saturating_mul(u64::from(s.parallelization));
            if memory > MAX_SCRYPT_MEMORY || work > 16 * MAX_SCRYPT_MEMORY {
                Err(EncryptedKeyError::Unsupported(format!(
                    "scrypt parameters N={} r={} p={} ask for more than {} MiB",
                    s.cost_parameter,
                    s.block_size,
                    s.parallelization,
                    MAX_SCRYPT_MEMORY >> 20
                )))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

fn unsupported(err: pkcs5::Error, params: &pbes2::Parameters<'_>) -> EncryptedKeyError {
    EncryptedKeyError::Unsupported(format!(
        "PBES2 with {} and {}: {err}",
        kdf_name(&params.kdf),
        cipher_name(&params.encryption)
    ))
}

fn kdf_name(kdf: &pbes2::Kdf<'_>) -> String {
    match kdf {
        pbes2::Kdf::Pbkdf2(p) => format!("PBKDF2-{:?}", p.prf),
        pbes2::Kdf::Scrypt(_) => "scrypt".to_owned(),
        other => format!("KDF {}", other.oid()),
    }
}

fn cipher_name(scheme: &pbes2::EncryptionScheme<'_>) -> String {
    match scheme {
        pbes2::EncryptionScheme::Aes128Cbc { .. } => "aes128-CBC".into(),
        pbes2::EncryptionScheme::Aes192Cbc { .. } => "aes192-CBC".into(),
        pbes2::EncryptionScheme::Aes256Cbc { .. } => "aes256-CBC".into(),
        pbes2::EncryptionScheme::DesEde3Cbc { .. } => "des-ede3-CBC".into(),
        other => format!("cipher {}", other.oid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // PKCS#8 v1 of an Ed25519 key (the value does not matter to the encryption layer).
    const PKCS8: [u8; 48] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
        24, 25, 26, 27, 28, 29, 30, 31, 32,
    ];

    #[test]
    fn round_trips_and_refuses_the_wrong_password() {
        let sealed = encrypt_with_iterations(&PKCS8, "pw", 1000).unwrap();
        assert!(is_encrypted(&sealed));
        assert!(!is_encrypted(&PKCS8));
        assert_eq!(decrypt(&sealed, "pw").unwrap().as_slice(), &PKCS8);
        for wrong in ["", "Pw", "pw ", "another password"] {
            assert_eq!(
                decrypt(&sealed, wrong),
                Err(EncryptedKeyError::WrongPassword)
            );
        }
        let described = describe(&sealed).unwrap();
        assert!(described.contains("aes256-CBC"), "{described}");
    }

    #[test]
    fn refuses_empty_passwords_and_garbage() {
        assert!(matches!(
            encrypt_with_iterations(&PKCS8, "", 1000),
            Err(EncryptedKeyError::Encrypt(_))
        ));
        assert!(matches!(
            decrypt(&PKCS8, "pw"),
            Err(EncryptedKeyError::Malformed(_))
        ));
        let sealed = encrypt_with_iterations(&PKCS8, "pw", 1000).unwrap();
        for cut in [1, 10, sealed.len() / 2, sealed.len() - 1] {
            assert!(decrypt(&sealed[..cut], "pw").is_err());
        }
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x55;
        assert!(decrypt(&flipped, "pw").is_err());
    }

    #[test]
    fn refuses_absurd_iteration_counts() {
        let salt = [0u8; 16];
        let iv = [0u8; 16];
        let params =
            pbes2::Parameters::pbkdf2_sha256_aes256cbc(MAX_ITERATIONS + 1, &salt, &iv).unwrap();
        let data = [0u8; 16];
        let der = EncryptedPrivateKeyInfo {
            encryption_algorithm: params.into(),
            encrypted_data: &data,
        }
        .to_der()
        .unwrap();
        let err = decrypt(&der, "pw").unwrap_err();
        assert!(err.to_string().contains("iteration count"), "{err}");
    }
}
