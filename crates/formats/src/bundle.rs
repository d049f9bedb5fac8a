//! Merged PEM bundles: a private key, its certificate and the chain in one text.
//!
//! [`read_blocks`] is the lenient half: blocks may come in any order, with
//! metadata lines around them (OpenSSL's `Bag Attributes`, `localKeyID`, `friendlyName`,
//! `subject=`, `issuer=`, certfleet's own `# certfleet:` header lines), CRLF line endings,
//! or newlines flattened to spaces. It sorts the blocks into one key, certificates and
//! certificate requests, and refuses with the block named (1-based index and label):
//! bad base64, a truncated block, a second key, a label that does not belong in a bundle.
//! Matching the key to a certificate and ordering the chain need X.509 and live in the
//! pki crate. [`write()`] is the strict half: key, leaf, chain, in that order.
//!
//! ```
//! use certfleet_formats::{bundle, pem};
//! let text = format!(
//!     "Bag Attributes\r\n    friendlyName: web\r\n{}subject=/CN=web\n{}",
//!     pem::encode("CERTIFICATE", &[0x30, 0x00]),
//!     pem::encode("EC PRIVATE KEY", &[0x30, 0x01, 0x00]),
//! );
//! let blocks = bundle::read_blocks(&text).unwrap();
//! let key = blocks.key.unwrap();
//! assert_eq!((key.index, key.encoding), (2, bundle::KeyEncoding::Sec1));
//! assert_eq!(blocks.certificates[0].index, 1);
//! ```

use crate::pem::{self, PemBlock};
use crate::FormatError;
use std::fmt;
use zeroize::Zeroizing;

/// How a private key block is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyEncoding {
    /// PKCS#8 `PrivateKeyInfo` (`PRIVATE KEY`).
    Pkcs8,
    /// PKCS#1 `RSAPrivateKey` (`RSA PRIVATE KEY`).
    Pkcs1,
    /// SEC1 `ECPrivateKey` (`EC PRIVATE KEY`).
    Sec1,
    /// Password-encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`).
    EncryptedPkcs8,
}

impl KeyEncoding {
    /// The encoding a PEM label announces, if it is a private key label.
    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            "PRIVATE KEY" => Some(KeyEncoding::Pkcs8),
            "RSA PRIVATE KEY" => Some(KeyEncoding::Pkcs1),
            "EC PRIVATE KEY" => Some(KeyEncoding::Sec1),
            "ENCRYPTED PRIVATE KEY" => Some(KeyEncoding::EncryptedPkcs8),
            _ => None,
        }
    }

    /// The PEM label of this encoding.
    pub fn label(self) -> &'static str {
        match self {
            KeyEncoding::Pkcs8 => "PRIVATE KEY",
            KeyEncoding::Pkcs1 => "RSA PRIVATE KEY",
            KeyEncoding::Sec1 => "EC PRIVATE KEY",
            KeyEncoding::EncryptedPkcs8 => "ENCRYPTED PRIVATE KEY",
        }
    }
}

impl fmt::Display for KeyEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyEncoding::Pkcs8 => "PKCS#8",
            KeyEncoding::Pkcs1 => "PKCS#1",
            KeyEncoding::Sec1 => "SEC1",
            KeyEncoding::EncryptedPkcs8 => "encrypted PKCS#8",
        })
    }
}

/// A private key block, its DER wiped from memory on drop.
pub struct KeyBlock {
    /// 1-based position of the block in its input.
    pub index: usize,
    /// The block's label as written.
    pub label: String,
    /// The encoding the label announces.
    pub encoding: KeyEncoding,
    /// The decoded body. Secret unless `encoding` is [`KeyEncoding::EncryptedPkcs8`].
    pub der: Zeroizing<Vec<u8>>,
}

impl KeyBlock {
    /// `block N (LABEL)`, the way errors name this block.
    pub fn name(&self) -> String {
        block_name(self.index, &self.label)
    }
}

impl fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("KeyBlock")
            .field("index", &self.index)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// The blocks of a PEM text, sorted by kind, each list in input order.
#[derive(Debug, Default)]
pub struct Blocks {
    /// The private key, when there is one.
    pub key: Option<KeyBlock>,
    /// `CERTIFICATE` (and `X509 CERTIFICATE`) blocks.
    pub certificates: Vec<PemBlock>,
    /// `CERTIFICATE REQUEST` (and `NEW CERTIFICATE REQUEST`) blocks.
    pub requests: Vec<PemBlock>,
}

/// Why a PEM text is not a usable bundle; every variant names the block concerned.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleError {
    /// A block that cannot be decoded (bad base64, truncated, empty, legacy headers).
    #[error(transparent)]
    Format(#[from] FormatError),
    /// More than one private key.
    #[error("{second}: a second private key ({first} is the first); a bundle holds one key")]
    TwoKeys {
        /// The first key block, as `block N (LABEL)`.
        first: String,
        /// The second key block.
        second: String,
    },
    /// A block that is not a key, a certificate or a certificate request.
    #[error("{0}: not a private key, certificate or certificate request")]
    UnexpectedBlock(String),
    /// Text without any PEM block.
    #[error("no PEM block found")]
    NoBlocks,
}

/// `block N (LABEL)`.
pub fn block_name(index: usize, label: &str) -> String {
    format!("block {index} ({label})")
}

const BEGIN: &str = "-----BEGIN ";

/// Decodes and sorts every block of `text` (see the module documentation for what is
/// tolerated and what is refused).
pub fn read_blocks(text: &str) -> Result<Blocks, BundleError> {
    let mut blocks = Blocks::default();
    let starts: Vec<usize> = text.match_indices(BEGIN).map(|(at, _)| at).collect();
    if starts.is_empty() {
        return Err(BundleError::NoBlocks);
    }
    for (position, &start) in starts.iter().enumerate() {
        let end = starts.get(position + 1).copied().unwrap_or(text.len());
        let block = decode_one(&text[start..end], position + 1)?;
        if let Some(encoding) = KeyEncoding::from_label(&block.label) {
            let key = KeyBlock {
                index: block.index,
                encoding,
                der: Zeroizing::new(block.der),
                label: block.label,
            };
            if let Some(first) = &blocks.key {
                return Err(BundleError::TwoKeys {
                    first: first.name(),
                    second: key.name(),
                });
            }
            blocks.key = Some(key);
            continue;
        }
        match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => blocks.certificates.push(block),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => blocks.requests.push(block),
            _ => {
                return Err(BundleError::UnexpectedBlock(block_name(
                    block.index,
                    &block.label,
                )))
            }
        }
    }
    Ok(blocks)
}

/// Decodes the one block that starts `segment` (which runs to the next BEGIN marker), so
/// a block whose END line is missing is reported as truncated rather than swallowing the
/// next block.
fn decode_one(segment: &str, index: usize) -> Result<PemBlock, FormatError> {
    let renumber = |err: FormatError| match err {
        FormatError::BadBase64 { label, .. } => FormatError::BadBase64 { index, label },
        FormatError::Truncated { label, .. } => FormatError::Truncated { index, label },
        FormatError::EmptyBlock { label, .. } => FormatError::EmptyBlock { index, label },
        FormatError::LegacyEncryptedPem { label, .. } => {
            FormatError::LegacyEncryptedPem { index, label }
        }
        other => other,
    };
    let mut decoded = pem::decode_blocks(segment).map_err(renumber)?;
    match decoded.pop() {
        Some(mut block) => {
            block.index = index;
            Ok(block)
        }
        // The segment starts with a BEGIN marker, so the scanner either finds its block
        // or reports why not; this arm is defensive.
        None => Err(FormatError::Truncated {
            index,
            label: String::new(),
        }),
    }
}

/// Writes a bundle strictly: the key block (if any), then every certificate in the order
/// given (the caller puts the leaf first and the chain in issuer order). 64-column
/// base64, LF line endings, nothing between blocks.
pub fn write(key: Option<(KeyEncoding, &[u8])>, certificates: &[&[u8]]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    if let Some((encoding, der)) = key {
        let block = Zeroizing::new(pem::encode(encoding.label(), der));
        out.push_str(&block);
    }
    for cert in certificates {
        out.push_str(&pem::encode("CERTIFICATE", cert));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(n: u8) -> String {
        pem::encode("CERTIFICATE", &[0x30, 0x01, n])
    }

    #[test]
    fn sorts_blocks_in_any_order_with_metadata_crlf_and_flattening() {
        let key = pem::encode("PRIVATE KEY", &[0x30, 0x00]);
        let text = format!(
            "# certfleet: issued-by=acme\nBag Attributes\n    localKeyID: 01 02\n    friendlyName: web\nsubject=/CN=web\nissuer=/CN=ca\n{}{}date=2024-01-01\n{}{}",
            cert(1),
            cert(2),
            key,
            cert(3)
        );
        for variant in [
            text.clone(),
            text.replace('\n', "\r\n"),
            text.replace('\n', " "),
        ] {
            let blocks = read_blocks(&variant).unwrap();
            let key = blocks.key.unwrap();
            assert_eq!(key.index, 3);
            assert_eq!(key.encoding, KeyEncoding::Pkcs8);
            let indexes: Vec<usize> = blocks.certificates.iter().map(|b| b.index).collect();
            assert_eq!(indexes, vec![1, 2, 4]);
            assert_eq!(blocks.certificates[2].der, vec![0x30, 0x01, 3]);
        }
    }

    #[test]
    fn refuses_a_second_key_naming_both_blocks() {
        let text = format!(
            "{}{}{}",
            pem::encode("RSA PRIVATE KEY", &[0x30, 0x00]),
            cert(1),
            pem::encode("EC PRIVATE KEY", &[0x30, 0x00])
        );
        let err = read_blocks(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "block 3 (EC PRIVATE KEY): a second private key (block 1 (RSA PRIVATE KEY) is the first); a bundle holds one key"
        );
    }

    #[test]
    fn names_the_truncated_block_even_when_another_follows() {
        let first = cert(1);
        let cut = &first[..first.len() - 20];
        let text = format!("{}{cut}\n{}", cert(0), cert(2));
        assert_eq!(
            read_blocks(&text).unwrap_err(),
            BundleError::Format(FormatError::Truncated {
                index: 2,
                label: "CERTIFICATE".into()
            })
        );
    }

    #[test]
    fn names_bad_base64_unknown_labels_and_empty_input() {
        let bad = "-----BEGIN CERTIFICATE-----\nM@@@\n-----END CERTIFICATE-----\n";
        let err = read_blocks(&format!("{}{bad}", cert(1))).unwrap_err();
        assert!(
            err.to_string().starts_with("block 2 (CERTIFICATE)"),
            "{err}"
        );
        let dh = pem::encode("DH PARAMETERS", &[0x30, 0x00]);
        let err = read_blocks(&format!("{}{dh}", cert(1))).unwrap_err();
        assert_eq!(
            err,
            BundleError::UnexpectedBlock("block 2 (DH PARAMETERS)".into())
        );
        assert_eq!(
            read_blocks("no pem here").unwrap_err(),
            BundleError::NoBlocks
        );
    }

    #[test]
    fn writes_key_then_certificates_strictly() {
        let out = write(
            Some((KeyEncoding::Sec1, &[0x30, 0x00])),
            &[&[0x30, 0x01, 1], &[0x30, 0x01, 2]],
        );
        let labels: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("-----BEGIN"))
            .collect();
        assert_eq!(
            labels,
            vec![
                "-----BEGIN EC PRIVATE KEY-----",
                "-----BEGIN CERTIFICATE-----",
                "-----BEGIN CERTIFICATE-----"
            ]
        );
        let again = read_blocks(&out).unwrap();
        assert_eq!(again.certificates.len(), 2);
        assert!(!format!("{:?}", again.key.unwrap()).contains("der"));
    }
}
