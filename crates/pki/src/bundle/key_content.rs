//! Reading a private key block by what it holds, whatever its PEM label says.
//!
//! Keys pasted by hand or converted by other tools often carry a label that does not
//! match the body: a PKCS#8 `PrivateKeyInfo` under `RSA PRIVATE KEY`, a PKCS#1 key under
//! `PRIVATE KEY`. [`read_key_block`] tells the body's encoding (PKCS#8, PKCS#1, SEC1)
//! from its ASN.1 shape and reads it as that; a body that differs from its label comes
//! with a [`MislabelledKey`] notice naming the block, so callers can tell the user.

use super::key_encodings::in_block;
use crate::error::Result;
use crate::keys::PrivateKey;
use certfleet_formats::bundle::{block_name, KeyEncoding};
use std::fmt;

/// A key block whose body is in another encoding than its label announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MislabelledKey {
    /// The block, as `block N (LABEL)`.
    pub block: String,
    /// The encoding the label announces.
    pub labelled: KeyEncoding,
    /// The encoding the body is in.
    pub holds: KeyEncoding,
}

impl fmt::Display for MislabelledKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the label announces a {} key but the block holds a {} key; read by its content (its label should be '{}')",
            self.block,
            self.labelled,
            self.holds,
            self.holds.label()
        )
    }
}

/// Reads the key in block `index` (labelled `label`, announcing `encoding`) from its DER
/// body. When the body is in another unencrypted encoding than the label announces, the
/// key is read by its content and the notice says so. Errors name the block and give the
/// reason for the announced encoding.
pub fn read_key_block(
    index: usize,
    label: &str,
    encoding: KeyEncoding,
    der: &[u8],
    password: Option<&str>,
) -> Result<(PrivateKey, Option<MislabelledKey>)> {
    let announced = PrivateKey::from_der_as(encoding, der, password);
    let holds = match encoding {
        KeyEncoding::EncryptedPkcs8 => None,
        _ => plain_encoding_of(der).filter(|holds| *holds != encoding),
    };
    let Some(holds) = holds else {
        return announced
            .map(|key| (key, None))
            .map_err(|e| in_block(e, index, label));
    };
    let notice = MislabelledKey {
        block: block_name(index, label),
        labelled: encoding,
        holds,
    };
    match announced {
        Ok(key) => Ok((key, Some(notice))),
        Err(announced_error) => PrivateKey::from_der_as(holds, der, None)
            .map(|key| (key, Some(notice)))
            .map_err(|_| in_block(announced_error, index, label)),
    }
}

/// The unencrypted encoding a key body is in, told from its ASN.1 shape: PKCS#8
/// `PrivateKeyInfo`, PKCS#1 `RSAPrivateKey`, or a SEC1 `ECPrivateKey` that reads.
fn plain_encoding_of(der: &[u8]) -> Option<KeyEncoding> {
    use rsa::{pkcs1, pkcs8};
    if pkcs8::PrivateKeyInfo::try_from(der).is_ok() {
        Some(KeyEncoding::Pkcs8)
    } else if pkcs1::RsaPrivateKey::try_from(der).is_ok() {
        Some(KeyEncoding::Pkcs1)
    } else if PrivateKey::from_der_as(KeyEncoding::Sec1, der, None).is_ok() {
        Some(KeyEncoding::Sec1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyAlgorithm;

    #[test]
    fn a_pkcs8_body_under_an_rsa_label_is_read_with_a_notice() {
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let (read, notice) = read_key_block(
            1,
            "RSA PRIVATE KEY",
            KeyEncoding::Pkcs1,
            key.pkcs8_der(),
            None,
        )
        .unwrap();
        assert_eq!(read.spki_der(), key.spki_der());
        let notice = notice.unwrap();
        assert_eq!(notice.holds, KeyEncoding::Pkcs8);
        assert!(notice
            .to_string()
            .starts_with("block 1 (RSA PRIVATE KEY): "));
    }

    #[test]
    fn a_sec1_body_under_the_pkcs8_label_is_read_and_a_matching_label_is_silent() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let sec1 = key.to_sec1_der().unwrap();
        let (_, notice) =
            read_key_block(2, "PRIVATE KEY", KeyEncoding::Pkcs8, &sec1, None).unwrap();
        assert_eq!(notice.unwrap().holds, KeyEncoding::Sec1);
        let (_, none) =
            read_key_block(2, "EC PRIVATE KEY", KeyEncoding::Sec1, &sec1, None).unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn garbage_keeps_the_announced_encodings_error_with_the_block_named() {
        let err = read_key_block(
            3,
            "RSA PRIVATE KEY",
            KeyEncoding::Pkcs1,
            &[0x30, 0x00],
            None,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("block 3 (RSA PRIVATE KEY)"),
            "{err}"
        );
    }
}
