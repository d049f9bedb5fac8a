//! Writing a [`PrivateKey`] in the encodings other tools want: PKCS#1 (RSA), SEC1 (EC)
//! and encrypted PKCS#8. (Plain PKCS#8 is [`PrivateKey::pkcs8_der`].)

use crate::error::{PkiError, Result};
use crate::keys::{KeyAlgorithm, PrivateKey};
use certfleet_formats::encrypted_key;
use zeroize::Zeroizing;

impl PrivateKey {
    /// The key as PKCS#1 `RSAPrivateKey` DER (`RSA PRIVATE KEY`); RSA keys only.
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        if !self.algorithm().is_rsa() {
            return Err(PkiError::WrongKind(format!(
                "PKCS#1 holds RSA keys only; this key is {}",
                self.algorithm()
            )));
        }
        let key = rsa::RsaPrivateKey::from_pkcs8_der(self.pkcs8_der())
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        let der = key
            .to_pkcs1_der()
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        Ok(Zeroizing::new(der.as_bytes().to_vec()))
    }

    /// The key as SEC1 `ECPrivateKey` DER with its named curve (`EC PRIVATE KEY`); ECDSA
    /// keys only.
    pub fn to_sec1_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        use aws_lc_rs::encoding::{AsDer, EcPrivateKeyRfc5915Der};
        use aws_lc_rs::signature::{
            EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
        };
        let alg = match self.algorithm() {
            KeyAlgorithm::EcdsaP256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            KeyAlgorithm::EcdsaP384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
            other => {
                return Err(PkiError::WrongKind(format!(
                    "SEC1 holds EC keys only; this key is {other}"
                )))
            }
        };
        let pair = EcdsaKeyPair::from_pkcs8(alg, self.pkcs8_der())
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        let der: EcPrivateKeyRfc5915Der<'static> = pair
            .private_key()
            .as_der()
            .map_err(|_| PkiError::Crypto("encoding an EC key as SEC1".into()))?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// The key as encrypted PKCS#8 DER (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC).
    pub fn to_encrypted_pkcs8_der(&self, password: &str) -> Result<Vec<u8>> {
        encrypted_key::encrypt(self.pkcs8_der(), password)
            .map_err(|e| PkiError::Invalid(e.to_string()))
    }
}

/// Prefixes an error with the PEM block it concerns: `block N (LABEL): ...`.
pub(crate) fn in_block(err: PkiError, index: usize, label: &str) -> PkiError {
    let name = certfleet_formats::bundle::block_name(index, label);
    match err {
        PkiError::Malformed { what, detail } => PkiError::Malformed {
            what: format!("{name}: {what}"),
            detail,
        },
        PkiError::Invalid(msg) => PkiError::Invalid(format!("{name}: {msg}")),
        PkiError::WrongKind(msg) => PkiError::WrongKind(format!("{name}: {msg}")),
        other => other,
    }
}
