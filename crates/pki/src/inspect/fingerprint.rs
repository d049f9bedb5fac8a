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

/// Normalises a thumbprint as typed (colons, spaces, any case) to bare upper-case hex.
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
}
