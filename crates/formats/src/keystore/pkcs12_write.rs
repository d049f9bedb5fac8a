//! Writing PKCS#12 through `p12-keystore`, in a modern or a legacy profile.
//!
//! `p12-keystore` encrypts key bags and the certificate safe with one algorithm. The legacy
//! profile wants two (3DES for keys, RC2-40 for certificates, as openssl's `-legacy` and
//! Java 8 write them), so it writes the store twice, takes the certificate safe from the
//! RC2 run and the key safe from the 3DES run, and seals the pair with a fresh SHA-1 MAC.

use super::{Entry, Keystore};
use crate::FormatError;
use ::pkcs12::cms::cert::x509::spki::AlgorithmIdentifierOwned;
use ::pkcs12::cms::content_info::ContentInfo;
use ::pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
use ::pkcs12::pfx::{Pfx, Version};
use ::pkcs12::{AuthenticatedSafe, DigestInfo, MacData};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode};
use hmac::{KeyInit, Mac};
use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey,
    PrivateKeyChain,
};
use sha1::{Digest, Sha1};

/// Which algorithms protect a PKCS#12 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pkcs12Profile {
    /// AES-256-CBC with PBKDF2-SHA256 for keys and certificates, HMAC-SHA256 MAC (what
    /// Java 17 and openssl 3 write by default).
    #[default]
    Modern,
    /// PBE-SHA1-3DES for keys, PBE-SHA1-RC2-40 for certificates, SHA-1 MAC (for Java 8
    /// before 8u301, old Windows, and anything built on openssl 1.x).
    Legacy,
}

impl Pkcs12Profile {
    /// [`Pkcs12Profile::Legacy`] when `legacy`, else [`Pkcs12Profile::Modern`].
    pub fn from_legacy(legacy: bool) -> Self {
        if legacy {
            Pkcs12Profile::Legacy
        } else {
            Pkcs12Profile::Modern
        }
    }
}

const ITERATIONS: u32 = 10_000;
const LEGACY_ITERATIONS: u32 = 2048;
const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const SHA1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

pub(super) fn write(
    store: &Keystore,
    password: &str,
    profile: Pkcs12Profile,
) -> Result<Vec<u8>, FormatError> {
    if password.chars().any(|c| u32::from(c) > 0xFFFF) {
        return Err(FormatError::Pkcs12Password);
    }
    let p12 = to_p12_keystore(store)?;
    match profile {
        Pkcs12Profile::Modern => p12
            .writer(password)
            .encryption_algorithm(EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
            .encryption_iterations(ITERATIONS)
            .mac_algorithm(MacAlgorithm::HmacSha256)
            .mac_iterations(ITERATIONS)
            .write()
            .map_err(write_error),
        Pkcs12Profile::Legacy => write_legacy(&p12, password),
    }
}

/// The profile an existing PKCS#12 file was written in, judged by its MAC: SHA-1 means
/// [`Pkcs12Profile::Legacy`]. `None` when `bytes` is not a PFX or has no MAC.
pub(super) fn profile_of(bytes: &[u8]) -> Option<Pkcs12Profile> {
    let mac = Pfx::from_der(bytes).ok()?.mac_data?;
    Some(if mac.mac.algorithm.oid == SHA1_OID {
        Pkcs12Profile::Legacy
    } else {
        Pkcs12Profile::Modern
    })
}

fn to_p12_keystore(store: &Keystore) -> Result<KeyStore, FormatError> {
    let mut p12 = KeyStore::new();
    for entry in &store.entries {
        let converted = match entry {
            Entry::PrivateKey {
                alias,
                pkcs8_der,
                chain,
            } => {
                let key = PrivateKey::from_der(pkcs8_der).map_err(|_| {
                    FormatError::Keystore(format!("entry '{alias}': the key is not PKCS#8"))
                })?;
                let certs = chain
                    .iter()
                    .map(|der| certificate(alias, der))
                    .collect::<Result<Vec<_>, _>>()?;
                // openssl's choice of localKeyID: the SHA-1 of the leaf certificate.
                let key_id = chain.first().map(|leaf| Sha1::digest(leaf).to_vec());
                KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(
                    key_id.unwrap_or_default(),
                    key,
                    certs,
                ))
            }
            Entry::Trusted { alias, cert_der } => {
                KeyStoreEntry::Certificate(certificate(alias, cert_der)?)
            }
        };
        p12.add_entry(entry.alias(), converted);
    }
    Ok(p12)
}

fn certificate(alias: &str, der: &[u8]) -> Result<Certificate, FormatError> {
    Certificate::from_der(der).map_err(|_| {
        FormatError::Keystore(format!("entry '{alias}': a certificate is not X.509 DER"))
    })
}

fn write_error(err: p12_keystore::error::Error) -> FormatError {
    FormatError::Keystore(format!("cannot encode PKCS#12: {err}"))
}

fn der_error(err: der::Error) -> FormatError {
    FormatError::Keystore(format!("cannot encode PKCS#12: {err}"))
}

fn write_legacy(p12: &KeyStore, password: &str) -> Result<Vec<u8>, FormatError> {
    let run = |algorithm| {
        p12.writer(password)
            .encryption_algorithm(algorithm)
            .encryption_iterations(LEGACY_ITERATIONS)
            .mac_algorithm(MacAlgorithm::HmacSha1)
            .mac_iterations(LEGACY_ITERATIONS)
            .write()
            .map_err(write_error)
    };
    // p12-keystore names the RC2-40 scheme "Rc4", but writes the RC2-40 OID (1.2.840.113549.1.12.1.6).
    let rc2 = safes_of(&run(EncryptionAlgorithm::PbeWithShaAnd40BitRc4Cbc)?)?;
    let des = safes_of(&run(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)?)?;
    let safes: AuthenticatedSafe<'_> = rc2
        .into_iter()
        .filter(|safe| safe.content_type == ENCRYPTED_DATA)
        .chain(des.into_iter().filter(|safe| safe.content_type == DATA))
        .collect();
    let safes_der = safes.to_der().map_err(der_error)?;
    let content = OctetString::new(safes_der.clone()).map_err(der_error)?;
    let pfx = Pfx {
        version: Version::V3,
        auth_safe: ContentInfo {
            content_type: DATA,
            content: Any::encode_from(&content).map_err(der_error)?,
        },
        mac_data: Some(sha1_mac(&safes_der, password)?),
    };
    pfx.to_der().map_err(der_error)
}

fn safes_of(pfx_der: &[u8]) -> Result<AuthenticatedSafe<'static>, FormatError> {
    let pfx = Pfx::from_der(pfx_der).map_err(der_error)?;
    let content = OctetString::from_der(&pfx.auth_safe.content.to_der().map_err(der_error)?)
        .map_err(der_error)?;
    AuthenticatedSafe::from_der(content.as_bytes()).map_err(der_error)
}

/// RFC 7292 MacData: HMAC-SHA1 under a key from the PKCS#12 KDF (ID 3).
fn sha1_mac(data: &[u8], password: &str) -> Result<MacData, FormatError> {
    let mut salt = [0u8; 20];
    getrandom::getrandom(&mut salt)
        .map_err(|_| FormatError::Keystore("no randomness for the MAC salt".into()))?;
    let rounds = LEGACY_ITERATIONS as i32;
    let key = zeroize::Zeroizing::new(
        derive_key_utf8::<Sha1>(password, &salt, Pkcs12KeyType::Mac, rounds, 20)
            .map_err(|_| FormatError::Keystore("the password cannot be a BMPString".into()))?,
    );
    let mut mac = <hmac::Hmac<Sha1> as KeyInit>::new_from_slice(&key)
        .map_err(|_| FormatError::Keystore("bad MAC key length".into()))?;
    mac.update(data);
    Ok(MacData {
        mac: DigestInfo {
            algorithm: AlgorithmIdentifierOwned {
                oid: SHA1_OID,
                parameters: Some(Any::null()),
            },
            digest: OctetString::new(mac.finalize().into_bytes().to_vec()).map_err(der_error)?,
        },
        mac_salt: OctetString::new(salt.to_vec()).map_err(der_error)?,
        iterations: rounds,
    })
}
