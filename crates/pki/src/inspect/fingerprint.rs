//! Certificate fingerprints as administrators type and compare them.

use aws_lc_rs::digest;

/// The SHA-1 thumbprint: 40 upper-case hex digits, no separators (as Windows shows it).
pub fn sha1_thumbprint(der: &[u8]) -> String {
    hex::encode_upper(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der))
}

/// The SHA-256 fingerprint: 64 upper-case hex digits, no separators.
pub fn sha256_fingerprint(der: &[u8]) -> String {
    hex::encode_upper(digest::digest(&digest::SHA256, der))
}

/// A character in a typed thumbprint that is neither a hex digit nor a separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignCharacter {
    /// The character.
    pub character: char,
    /// Its position in the typed value, counting characters from 1.
    pub position: usize,
}

impl std::fmt::Display for ForeignCharacter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} at character {} is neither a hex digit nor a separator (':' or space)",
            self.character, self.position
        )
    }
}

/// A thumbprint as an administrator types it, strictly: hex digits of either case,
/// separated or not by colons and spaces, to bare upper-case hex. Any other character is
/// refused rather than dropped, so that a mistyped value is not silently shortened.
pub fn parse_typed(typed: &str) -> Result<String, ForeignCharacter> {
    if let Some((index, character)) = typed
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_hexdigit() || *c == ':' || *c == ' '))
    {
        return Err(ForeignCharacter {
            character,
            position: index + 1,
        });
    }
    Ok(normalise(typed))
}

/// Normalises a thumbprint as typed (colons, spaces, any case) to bare upper-case hex,
/// dropping any other character (see [`parse_typed`] for the strict reading).
pub fn normalise(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_windows() {
        let t = sha1_thumbprint(b"abc");
        assert_eq!(t, "A9993E364706816ABA3E25717850C26C9CD0D89D");
        assert_eq!(sha256_fingerprint(b"").len(), 64);
        assert_eq!(normalise("a9:99 3e"), "A9993E");
    }

    #[test]
    fn typed_thumbprints_keep_only_hex_and_separators() {
        assert_eq!(parse_typed("a9:99 3E").as_deref(), Ok("A9993E"));
        let refused = parse_typed("A9:9G").unwrap_err();
        assert_eq!((refused.character, refused.position), ('G', 5));
        assert_eq!(
            parse_typed("A9-99").unwrap_err().to_string(),
            "'-' at character 3 is neither a hex digit nor a separator (':' or space)"
        );
    }
}
