//! PEM blocks: a lenient scanner and a strict writer.
//!
//! The scanner looks for `-----BEGIN LABEL-----` markers anywhere in the text, so anything
//! outside blocks (OpenSSL's `Bag Attributes`, `subject=` lines, comments) is skipped, and
//! the body may be split by LF, CRLF or plain spaces (a bundle pasted into a one-line
//! field). The writer emits RFC 7468 text: 64-column base64, LF line endings.

use crate::FormatError;
use base64::Engine;

/// One decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label between `BEGIN ` and the closing dashes, e.g. `CERTIFICATE`.
    pub label: String,
    /// The decoded body.
    pub der: Vec<u8>,
    /// 1-based position of the block in its input, for error messages.
    pub index: usize,
}

const BEGIN: &str = "-----BEGIN ";
const DASHES: &str = "-----";

/// True when the text contains at least one PEM BEGIN marker.
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(BEGIN.len()).any(|w| w == BEGIN.as_bytes())
}

/// True when the bytes are PEM holding a private key block (`PRIVATE KEY`, `RSA PRIVATE
/// KEY`, `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`); false for DER. A damaged PEM block is
/// an error naming it.
pub fn has_private_key_block(bytes: &[u8]) -> Result<bool, FormatError> {
    if !looks_like_pem(bytes) {
        return Ok(false);
    }
    let blocks = decode_blocks(&String::from_utf8_lossy(bytes))?;
    Ok(blocks.iter().any(|b| b.label.ends_with("PRIVATE KEY")))
}

/// Decodes every PEM block in `text`, in order, skipping anything between blocks.
///
/// Errors name the block by position and label: a body that is not base64, a block
/// without its END line, an empty body, or legacy RFC 1421 headers.
pub fn decode_blocks(text: &str) -> Result<Vec<PemBlock>, FormatError> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let index = blocks.len() + 1;
        let after_begin = &rest[start + BEGIN.len()..];
        let Some(label_end) = after_begin.find(DASHES) else {
            return Err(FormatError::Truncated {
                index,
                label: after_begin
                    .chars()
                    .take(40)
                    .collect::<String>()
                    .trim()
                    .to_owned(),
            });
        };
        let label = after_begin[..label_end].trim().to_owned();
        let body_and_more = &after_begin[label_end + DASHES.len()..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_and_more.find(&end_marker) else {
            return Err(FormatError::Truncated { index, label });
        };
        let body = &body_and_more[..body_end];
        // Base64 has no colon, so only a body with one can hold RFC 1421 headers.
        if body.contains(':') && (body.contains("Proc-Type:") || body.contains("DEK-Info:")) {
            return Err(FormatError::LegacyEncryptedPem { index, label });
        }
        let compact = without_whitespace(body);
        if compact.is_empty() {
            return Err(FormatError::EmptyBlock { index, label });
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(&compact)
            .map_err(|_| FormatError::BadBase64 {
                index,
                label: label.clone(),
            })?;
        blocks.push(PemBlock { label, der, index });
        rest = &body_and_more[body_end + end_marker.len()..];
    }
    Ok(blocks)
}

/// The bytes of a block's body without its white space (line breaks, spaces, tabs, and
/// any other Unicode white space a pasted or flattened bundle may carry). An ASCII body,
/// the usual one, is filtered byte by byte.
fn without_whitespace(body: &str) -> Vec<u8> {
    if body.is_ascii() {
        // The ASCII characters `char::is_whitespace` accepts, vertical tab included.
        body.bytes()
            .filter(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
            .collect()
    } else {
        body.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .into_bytes()
    }
}

/// Encodes `der` as one PEM block with 64-column lines and a trailing newline.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every 64-byte chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_block_is_found_among_certificates_and_der_has_none() {
        let cert = encode("CERTIFICATE", &[1, 2, 3]);
        let key = encode("EC PRIVATE KEY", &[4, 5, 6]);
        assert_eq!(has_private_key_block(cert.as_bytes()), Ok(false));
        assert_eq!(has_private_key_block((cert + &key).as_bytes()), Ok(true));
        assert_eq!(has_private_key_block(&[0x30, 0x03, 1, 2, 3]), Ok(false));
    }

    #[test]
    fn round_trips_a_block() {
        let der: Vec<u8> = (0..200u8).collect();
        let text = encode("CERTIFICATE", &der);
        assert!(text.lines().all(|l| l.len() <= 64));
        let blocks = decode_blocks(&text).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].der, der);
        assert_eq!(blocks[0].index, 1);
    }

    #[test]
    fn skips_metadata_and_accepts_crlf_and_flattened_newlines() {
        let der: Vec<u8> = (0..100u8).collect();
        let block = encode("PRIVATE KEY", &der);
        let crlf = format!(
            "Bag Attributes\r\n    localKeyID: 01 02\r\nsubject=/CN=x\r\n{}",
            block.replace('\n', "\r\n")
        );
        assert_eq!(decode_blocks(&crlf).unwrap()[0].der, der);
        let flat = block.replace('\n', " ");
        assert_eq!(decode_blocks(&flat).unwrap()[0].der, der);
        let tabs_and_feeds = block.replacen('\n', "\t\x0b\x0c\n", 3);
        assert_eq!(decode_blocks(&tabs_and_feeds).unwrap()[0].der, der);
        let pasted = block.replacen('\n', "\u{a0}\u{2028}\n", 3);
        assert_eq!(
            decode_blocks(&pasted).unwrap()[0].der,
            der,
            "Unicode spaces"
        );
    }

    #[test]
    fn refuses_legacy_encrypted_blocks_only() {
        let encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(matches!(
            decode_blocks(encrypted).unwrap_err(),
            FormatError::LegacyEncryptedPem { index: 1, .. }
        ));
        let block = encode("CERTIFICATE", &[1, 2, 3]);
        assert_eq!(decode_blocks(&block).unwrap()[0].der, [1, 2, 3]);
    }

    #[test]
    fn names_the_block_with_bad_base64() {
        let good = encode("CERTIFICATE", &[1, 2, 3]);
        let bad = "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n";
        let err = decode_blocks(&format!("{good}{bad}")).unwrap_err();
        assert_eq!(
            err,
            FormatError::BadBase64 {
                index: 2,
                label: "CERTIFICATE".into()
            }
        );
        assert!(err.to_string().contains("block 2 (CERTIFICATE)"));
    }

    #[test]
    fn reports_truncated_blocks() {
        let err = decode_blocks("-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err();
        assert!(matches!(err, FormatError::Truncated { index: 1, .. }));
    }
}
