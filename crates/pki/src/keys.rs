//! Private keys: the algorithms certfleet offers, generation, loading and signing.
//!
//! Every key is held as PKCS#8 (zeroized on drop) plus a signer. RSA 2048 to 4096, ECDSA
//! and Ed25519 sign through aws-lc-rs (via rcgen); RSA 1024 exists only for legacy peers,
//! needs an explicit opt-in, and signs through the `rsa` crate because aws-lc-rs refuses
//! keys below 2048 bits.

use crate::error::{PkiError, Result};
use certfleet_formats::bundle::KeyEncoding;
use certfleet_formats::{encrypted_key, pem};
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey};
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// A key algorithm as named on the command line (`--key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (the default).
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA 1024, legacy peers only; needs `--allow-weak`.
    Rsa1024,
    /// RSA 2048.
    Rsa2048,
    /// RSA 3072.
    Rsa3072,
    /// RSA 4096.
    Rsa4096,
}

impl KeyAlgorithm {
    /// Every algorithm, in the order the CLI lists them.
    pub const ALL: [KeyAlgorithm; 7] = [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Ed25519,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::Rsa4096,
        KeyAlgorithm::Rsa1024,
    ];

    /// The CLI name, e.g. `ecdsa-p256`.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
            KeyAlgorithm::EcdsaP384 => "ecdsa-p384",
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::Rsa1024 => "rsa1024",
            KeyAlgorithm::Rsa2048 => "rsa2048",
            KeyAlgorithm::Rsa3072 => "rsa3072",
            KeyAlgorithm::Rsa4096 => "rsa4096",
        }
    }

    /// True for algorithms that need `--allow-weak`.
    pub fn is_weak(self) -> bool {
        self == KeyAlgorithm::Rsa1024
    }

    /// True for the RSA family.
    pub fn is_rsa(self) -> bool {
        matches!(
            self,
            KeyAlgorithm::Rsa1024
                | KeyAlgorithm::Rsa2048
                | KeyAlgorithm::Rsa3072
                | KeyAlgorithm::Rsa4096
        )
    }

    /// Refuses a weak algorithm unless the caller opted in.
    pub fn check_allowed(self, allow_weak: bool) -> Result<()> {
        if self.is_weak() && !allow_weak {
            return Err(PkiError::Invalid(format!(
                "--key {}: RSA below 2048 bits is only for legacy peers; add --allow-weak to accept it",
                self.name()
            )));
        }
        Ok(())
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        KeyAlgorithm::ALL
            .into_iter()
            .find(|alg| alg.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = KeyAlgorithm::ALL.iter().map(|a| a.name()).collect();
                PkiError::Invalid(format!(
                    "unknown key algorithm '{s}'; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// A private key able to sign certificates and CSRs.
pub struct PrivateKey {
    algorithm: KeyAlgorithm,
    pkcs8: Zeroizing<Vec<u8>>,
    signer: Signer,
}

enum Signer {
    Rcgen(rcgen::KeyPair),
    WeakRsa(Box<WeakRsaSigner>),
}

struct WeakRsaSigner {
    key: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    public_pkcs1: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Generates a fresh key. Weak algorithms must have passed [`KeyAlgorithm::check_allowed`].
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self> {
        use rcgen::{KeyPair, RsaKeySize};
        let pair = match algorithm {
            KeyAlgorithm::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
            KeyAlgorithm::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)?,
            KeyAlgorithm::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519)?,
            KeyAlgorithm::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)?
            }
            KeyAlgorithm::Rsa3072 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_3072)?
            }
            KeyAlgorithm::Rsa4096 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_4096)?
            }
            KeyAlgorithm::Rsa1024 => return Self::generate_weak_rsa(),
        };
        let pkcs8 = portable_pkcs8(algorithm, Zeroizing::new(pair.serialize_der()))?;
        Ok(PrivateKey {
            algorithm,
            pkcs8,
            signer: Signer::Rcgen(pair),
        })
    }

    fn generate_weak_rsa() -> Result<Self> {
        use rsa::pkcs8::EncodePrivateKey;
        let mut rng = rsa::rand_core::OsRng;
        let key =
            rsa::RsaPrivateKey::new(&mut rng, 1024).map_err(|e| PkiError::Crypto(e.to_string()))?;
        let pkcs8 = key
            .to_pkcs8_der()
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        Self::weak_rsa_from_parts(key, Zeroizing::new(pkcs8.as_bytes().to_vec()))
    }

    fn weak_rsa_from_parts(key: rsa::RsaPrivateKey, pkcs8: Zeroizing<Vec<u8>>) -> Result<Self> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        let public_pkcs1 = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| PkiError::Crypto(e.to_string()))?
            .into_vec();
        Ok(PrivateKey {
            algorithm: KeyAlgorithm::Rsa1024,
            pkcs8,
            signer: Signer::WeakRsa(Box::new(WeakRsaSigner {
                key: rsa::pkcs1v15::SigningKey::new(key),
                public_pkcs1,
            })),
        })
    }

    /// Reads an unencrypted private key: PEM (`PRIVATE KEY`, `RSA PRIVATE KEY`,
    /// `EC PRIVATE KEY`) or DER (PKCS#8, PKCS#1, SEC1). The first key block is used.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_with_password(bytes, None)
    }

    /// Like [`PrivateKey::from_bytes`], also reading encrypted PKCS#8 (PEM
    /// `ENCRYPTED PRIVATE KEY` or DER) with `password`.
    pub fn from_bytes_with_password(bytes: &[u8], password: Option<&str>) -> Result<Self> {
        if pem::looks_like_pem(bytes) {
            let text = String::from_utf8_lossy(bytes);
            let blocks = pem::decode_blocks(&text)?;
            let block = blocks
                .iter()
                .find(|b| b.label.ends_with("PRIVATE KEY"))
                .ok_or_else(|| PkiError::WrongKind("no private key block found".into()))?;
            let encoding = KeyEncoding::from_label(&block.label).ok_or_else(|| {
                PkiError::WrongKind(format!(
                    "block {} ({}) is not a supported private key",
                    block.index, block.label
                ))
            })?;
            // A mislabelled block is read by its content; callers wanting the notice
            // read through `bundle::read_noting`.
            return crate::bundle::read_key_block(
                block.index,
                &block.label,
                encoding,
                &block.der,
                password,
            )
            .map(|(key, _)| key);
        }
        let der = bytes;
        if encrypted_key::is_encrypted(der) {
            return Self::from_der_as(KeyEncoding::EncryptedPkcs8, der, password);
        }
        Self::from_pkcs8(der.to_vec())
            .or_else(|_| Self::from_pkcs1(der))
            .or_else(|_| Self::from_sec1(der))
            .map_err(|_| PkiError::WrongKind("not a private key (PKCS#8, PKCS#1 or SEC1)".into()))
    }

    /// Reads a key's DER in a known encoding; `password` is needed for encrypted PKCS#8.
    pub fn from_der_as(encoding: KeyEncoding, der: &[u8], password: Option<&str>) -> Result<Self> {
        match encoding {
            KeyEncoding::Pkcs8 => Self::from_pkcs8(der.to_vec()),
            KeyEncoding::Pkcs1 => Self::from_pkcs1(der),
            KeyEncoding::Sec1 => Self::from_sec1(der),
            KeyEncoding::EncryptedPkcs8 => {
                let password = password.ok_or_else(|| {
                    PkiError::Invalid("the private key is encrypted; its password is needed".into())
                })?;
                let plain = encrypted_key::decrypt(der, password).map_err(|e| match e {
                    encrypted_key::EncryptedKeyError::WrongPassword => {
                        PkiError::Invalid(format!("encrypted private key: {e}"))
                    }
                    other => PkiError::Malformed {
                        what: "encrypted private key".into(),
                        detail: other.to_string(),
                    },
                })?;
                Self::from_pkcs8(plain.to_vec())
            }
        }
    }

    fn from_pkcs8(der: Vec<u8>) -> Result<Self> {
        let pkcs8 = Zeroizing::new(der);
        let as_pki = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_slice());
        match rcgen::KeyPair::try_from(&as_pki) {
            Ok(pair) => {
                let algorithm = algorithm_of_rcgen(&pair)?;
                let pkcs8 = portable_pkcs8(algorithm, pkcs8)?;
                Ok(PrivateKey {
                    algorithm,
                    pkcs8,
                    signer: Signer::Rcgen(pair),
                })
            }
            Err(first) => {
                use rsa::pkcs8::DecodePrivateKey;
                match rsa::RsaPrivateKey::from_pkcs8_der(&pkcs8) {
                    Ok(key) if rsa::traits::PublicKeyParts::n(&key).bits() < 2048 => {
                        Self::weak_rsa_from_parts(key, pkcs8)
                    }
                    _ => Err(PkiError::Malformed {
                        what: "private key".into(),
                        detail: first.to_string(),
                    }),
                }
            }
        }
    }

    fn from_pkcs1(der: &[u8]) -> Result<Self> {
        use aws_lc_rs::encoding::AsDer;
        match aws_lc_rs::rsa::KeyPair::from_der(der) {
            Ok(pair) => {
                let pkcs8 = pair
                    .as_der()
                    .map_err(|_| PkiError::Crypto("re-encoding an RSA key".into()))?;
                Self::from_pkcs8(pkcs8.as_ref().to_vec())
            }
            Err(_) => {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                use rsa::pkcs8::EncodePrivateKey;
                let key =
                    rsa::RsaPrivateKey::from_pkcs1_der(der).map_err(|e| PkiError::Malformed {
                        what: "RSA private key".into(),
                        detail: e.to_string(),
                    })?;
                let pkcs8 = key
                    .to_pkcs8_der()
                    .map_err(|e| PkiError::Crypto(e.to_string()))?;
                Self::from_pkcs8(pkcs8.as_bytes().to_vec())
            }
        }
    }

    fn from_sec1(der: &[u8]) -> Result<Self> {
        use aws_lc_rs::signature::{
            EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
        };
        for alg in [
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &ECDSA_P384_SHA384_ASN1_SIGNING,
        ] {
            if let Ok(pair) = EcdsaKeyPair::from_private_key_der(alg, der) {
                let pkcs8 = pair
                    .to_pkcs8v1()
                    .map_err(|_| PkiError::Crypto("re-encoding an EC key".into()))?;
                return Self::from_pkcs8(pkcs8.as_ref().to_vec());
            }
        }
        Err(PkiError::Malformed {
            what: "EC private key".into(),
            detail: "not a P-256 or P-384 SEC1 key".into(),
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The key as PKCS#8 DER. Handle with care: this is the secret.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key as a PKCS#8 PEM block (`PRIVATE KEY`).
    pub fn to_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem::encode("PRIVATE KEY", &self.pkcs8))
    }

    /// The DER SubjectPublicKeyInfo of the public half.
    pub fn spki_der(&self) -> Vec<u8> {
        self.subject_public_key_info()
    }
}

/// Ed25519 keys are kept as PKCS#8 v1 (RFC 5208, no embedded public key): OpenSSL 3.0
/// refuses the v2 form that aws-lc-rs writes, and Java reads both.
fn portable_pkcs8(
    algorithm: KeyAlgorithm,
    pkcs8: Zeroizing<Vec<u8>>,
) -> Result<Zeroizing<Vec<u8>>> {
    if algorithm != KeyAlgorithm::Ed25519 {
        return Ok(pkcs8);
    }
    let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8)
        .map_err(|e| PkiError::Crypto(e.to_string()))?;
    let v1 = pair
        .to_pkcs8v1()
        .map_err(|_| PkiError::Crypto("re-encoding an Ed25519 key".into()))?;
    Ok(Zeroizing::new(v1.as_ref().to_vec()))
}

fn algorithm_of_rcgen(pair: &rcgen::KeyPair) -> Result<KeyAlgorithm> {
    let alg = pair.algorithm();
    if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
        Ok(KeyAlgorithm::EcdsaP256)
    } else if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
        Ok(KeyAlgorithm::EcdsaP384)
    } else if alg == &rcgen::PKCS_ED25519 {
        Ok(KeyAlgorithm::Ed25519)
    } else if alg == &rcgen::PKCS_RSA_SHA256 {
        match pair.public_key_raw().len() {
            // PKCS#1 RSAPublicKey DER sizes: modulus bytes plus a few bytes of framing.
            n if n < 300 => Ok(KeyAlgorithm::Rsa2048),
            n if n < 430 => Ok(KeyAlgorithm::Rsa3072),
            n if n < 560 => Ok(KeyAlgorithm::Rsa4096),
            _ => Err(PkiError::Invalid(
                "RSA keys above 4096 bits are not offered".into(),
            )),
        }
    } else {
        Err(PkiError::Invalid(
            "unsupported private key algorithm (P-521 and others are not offered)".into(),
        ))
    }
}

impl PublicKeyData for PrivateKey {
    fn der_bytes(&self) -> &[u8] {
        match &self.signer {
            Signer::Rcgen(pair) => pair.der_bytes(),
            Signer::WeakRsa(weak) => &weak.public_pkcs1,
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match &self.signer {
            Signer::Rcgen(pair) => PublicKeyData::algorithm(pair),
            Signer::WeakRsa(_) => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

impl SigningKey for PrivateKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        match &self.signer {
            Signer::Rcgen(pair) => pair.sign(msg),
            Signer::WeakRsa(weak) => {
                use rsa::signature::{SignatureEncoding, Signer as _};
                let signature = weak
                    .key
                    .try_sign(msg)
                    .map_err(|_| rcgen::Error::RingUnspecified)?;
                Ok(signature.to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in KeyAlgorithm::ALL {
            assert_eq!(alg.name().parse::<KeyAlgorithm>().unwrap(), alg);
        }
        assert!("rsa512".parse::<KeyAlgorithm>().is_err());
    }

    #[test]
    fn weak_keys_need_opt_in() {
        assert!(KeyAlgorithm::Rsa1024.check_allowed(false).is_err());
        assert!(KeyAlgorithm::Rsa1024.check_allowed(true).is_ok());
        assert!(KeyAlgorithm::Rsa2048.check_allowed(false).is_ok());
    }

    #[test]
    fn generated_keys_reload_with_their_algorithm() {
        for alg in [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::Rsa1024,
        ] {
            let key = PrivateKey::generate(alg).unwrap();
            let again = PrivateKey::from_bytes(key.to_pem().as_bytes()).unwrap();
            assert_eq!(again.algorithm(), alg);
            assert_eq!(again.spki_der(), key.spki_der());
            assert!(!format!("{key:?}").contains("pkcs8"));
        }
    }
}
