//! Telling encodings apart from their first bytes.

use crate::pem;

/// The outer encoding of a file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Text with at least one PEM block.
    Pem,
    /// A DER SEQUENCE (certificate, CSR, key, PKCS#12).
    Der,
    /// A Java KeyStore (magic FE ED FE ED).
    Jks,
    /// None of the above.
    Unknown,
}

/// Classifies `bytes` by their first bytes.
pub fn encoding_of(bytes: &[u8]) -> Encoding {
    if bytes.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) {
        Encoding::Jks
    } else if pem::looks_like_pem(bytes) {
        Encoding::Pem
    } else if bytes.first() == Some(&0x30) && bytes.len() > 2 {
        Encoding::Der
    } else {
        Encoding::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_leading_bytes() {
        assert_eq!(encoding_of(&[0xFE, 0xED, 0xFE, 0xED, 0]), Encoding::Jks);
        assert_eq!(encoding_of(b"junk\n-----BEGIN X-----"), Encoding::Pem);
        assert_eq!(encoding_of(&[0x30, 0x03, 1, 2, 3]), Encoding::Der);
        assert_eq!(encoding_of(b"hello"), Encoding::Unknown);
    }
}
