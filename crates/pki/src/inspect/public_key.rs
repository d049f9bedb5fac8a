//! Describing a public key: its type and size in bits.

use serde::Serialize;
use x509_parser::oid_registry::{
    Oid, OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION, OID_SIG_ED25519, OID_SIG_ED448,
};
use x509_parser::x509::SubjectPublicKeyInfo;

/// The type and strength of a public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyDescription {
    /// `RSA`, `EC`, `Ed25519`, `Ed448` or the algorithm OID for anything else.
    pub key_type: String,
    /// Size in bits (RSA modulus, EC field size).
    pub key_bits: u32,
    /// The named curve for EC keys (`P-256`, `P-384`, `P-521`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
}

/// Describes an X.509 SubjectPublicKeyInfo.
pub fn describe(spki: &SubjectPublicKeyInfo<'_>) -> KeyDescription {
    let alg = &spki.algorithm.algorithm;
    if *alg == OID_PKCS1_RSAENCRYPTION {
        let bits = match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => integer_bits(rsa.modulus),
            _ => 0,
        };
        return KeyDescription {
            key_type: "RSA".into(),
            key_bits: bits,
            curve: None,
        };
    }
    if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve_oid: Option<Oid<'_>> = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        let (curve, bits) = match curve_oid {
            Some(oid) if oid == OID_EC_P256 => (Some("P-256"), 256),
            Some(oid) if oid == OID_NIST_EC_P384 => (Some("P-384"), 384),
            Some(oid) if oid == OID_NIST_EC_P521 => (Some("P-521"), 521),
            _ => (None, 0),
        };
        return KeyDescription {
            key_type: "EC".into(),
            key_bits: bits,
            curve: curve.map(str::to_owned),
        };
    }
    let (key_type, key_bits) = if *alg == OID_SIG_ED25519 {
        ("Ed25519".to_owned(), 256)
    } else if *alg == OID_SIG_ED448 {
        ("Ed448".to_owned(), 456)
    } else {
        (alg.to_id_string(), 0)
    };
    KeyDescription {
        key_type,
        key_bits,
        curve: None,
    }
}

/// The number of significant bits in a big-endian unsigned integer.
pub fn integer_bits(bytes: &[u8]) -> u32 {
    let significant: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    let whole = u32::try_from(significant.len().saturating_sub(1)).unwrap_or(u32::MAX / 16) * 8;
    whole + (8 - significant[0].leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_significant_bits() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x7f, 0xff]), 15);
        assert_eq!(integer_bits(&[0, 0]), 0);
    }
}
