//! The primitive encodings of a JKS file, as Java's `DataInputStream`/`DataOutputStream`
//! write them: big-endian integers, length-prefixed blobs, and "modified UTF-8" strings.
//!
//! The reader works on a slice and checks every length against what is left before
//! taking it, so a damaged file is an error, never a panic or a huge allocation.

use crate::FormatError;

/// A cursor over the bytes of a JKS file.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.offset >= self.bytes.len()
    }

    pub(super) fn take(&mut self, len: usize) -> Result<&'a [u8], FormatError> {
        let end = self
            .offset
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| {
                FormatError::Keystore(format!(
                    "JKS cut short: {len} bytes wanted at offset {}, {} left",
                    self.offset,
                    self.bytes.len() - self.offset
                ))
            })?;
        let taken = &self.bytes[self.offset..end];
        self.offset = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(super) fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A blob with a 32-bit length prefix.
    pub(super) fn blob(&mut self) -> Result<&'a [u8], FormatError> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// A string as `DataInputStream.readUTF` reads it.
    pub(super) fn utf(&mut self) -> Result<String, FormatError> {
        let len = usize::from(self.u16()?);
        decode_modified_utf8(self.take(len)?)
    }
}

pub(super) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

pub(super) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// A 32-bit count.
pub(super) fn put_count(out: &mut Vec<u8>, count: usize) -> Result<(), FormatError> {
    let count =
        u32::try_from(count).map_err(|_| FormatError::Keystore("too many items for JKS".into()))?;
    put_u32(out, count);
    Ok(())
}

/// A blob with a 32-bit length prefix.
pub(super) fn put_blob(out: &mut Vec<u8>, blob: &[u8]) -> Result<(), FormatError> {
    let len = u32::try_from(blob.len())
        .map_err(|_| FormatError::Keystore("an item is too large for JKS".into()))?;
    put_u32(out, len);
    out.extend_from_slice(blob);
    Ok(())
}

/// A string as `DataOutputStream.writeUTF` writes it.
pub(super) fn put_utf(out: &mut Vec<u8>, text: &str) -> Result<(), FormatError> {
    let encoded = encode_modified_utf8(text);
    let len = u16::try_from(encoded.len())
        .map_err(|_| FormatError::Keystore(format!("alias too long for JKS: {text:.40}...")))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&encoded);
    Ok(())
}

/// Java's modified UTF-8: each UTF-16 unit on its own; NUL as two bytes; U+0001..U+007F
/// as one byte, up to U+07FF as two, the rest (surrogates included) as three.
fn encode_modified_utf8(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for unit in text.encode_utf16() {
        match unit {
            0x0001..=0x007F => out.push(unit as u8),
            0x0000 | 0x0080..=0x07FF => {
                out.push(0xC0 | (unit >> 6) as u8);
                out.push(0x80 | (unit & 0x3F) as u8);
            }
            _ => {
                out.push(0xE0 | (unit >> 12) as u8);
                out.push(0x80 | ((unit >> 6) & 0x3F) as u8);
                out.push(0x80 | (unit & 0x3F) as u8);
            }
        }
    }
    out
}

fn decode_modified_utf8(bytes: &[u8]) -> Result<String, FormatError> {
    let bad = || FormatError::Keystore("an alias is not valid modified UTF-8".into());
    let mut units = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        let continuation = |i: usize| match tail.get(i) {
            Some(b) if b & 0xC0 == 0x80 => Ok(u16::from(b & 0x3F)),
            _ => Err(bad()),
        };
        let (unit, used) = match first {
            0x00..=0x7F => (u16::from(first), 1),
            0xC0..=0xDF => ((u16::from(first & 0x1F) << 6) | continuation(0)?, 2),
            0xE0..=0xEF => (
                (u16::from(first & 0x0F) << 12) | (continuation(0)? << 6) | continuation(1)?,
                3,
            ),
            _ => return Err(bad()),
        };
        units.push(unit);
        rest = &rest[used..];
    }
    String::from_utf16(&units).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_utf8_round_trips_and_matches_java() {
        for text in ["server", "Ünïcode", "nul\u{0}in", "emoji \u{1F512}", ""] {
            let mut out = Vec::new();
            put_utf(&mut out, text).unwrap();
            assert_eq!(Reader::new(&out).utf().unwrap(), text);
        }
        // Java writes NUL as C0 80 and a supplementary character as two 3-byte surrogates.
        assert_eq!(encode_modified_utf8("\u{0}"), vec![0xC0, 0x80]);
        assert_eq!(encode_modified_utf8("\u{1F512}").len(), 6);
    }

    #[test]
    fn damaged_input_is_an_error_not_a_panic() {
        let mut reader = Reader::new(&[0, 0, 0, 9, 1, 2]);
        assert!(reader.blob().is_err());
        assert!(Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF]).blob().is_err());
        assert!(decode_modified_utf8(&[0xE0, 0x80]).is_err());
        assert!(decode_modified_utf8(&[0xFF]).is_err());
        assert!(decode_modified_utf8(&[0xED, 0xA0, 0x80]).is_err()); // lone surrogate
    }
}
