//! Jetty's `OBF:` password form, as Jetty's configuration files and its
//! `org.eclipse.jetty.util.security.Password` tool write it.
//!
//! This is obfuscation, not encryption: there is no key, and anyone holding an `OBF:`
//! value gets the password back with [`deobfuscate`]. It only keeps a password from
//! being read over a shoulder; protect the file like one holding the password in clear.
//!
//! The password is taken as UTF-8 bytes. Byte `i` is paired with byte `len - 1 - i`
//! (the same position counted from the end), and each pair gives one group:
//! - both bytes ASCII (`b1`, `b2` < 128): `(127 + b1 + b2) * 256 + (127 + b1 - b2)`
//!   written in lower-case base 36, padded with leading zeros to 4 characters;
//! - either byte not ASCII: `b1 * 256 + b2` in base 36, padded to 4 characters and
//!   preceded by `U` (5 characters).
//!
//! So the value has one group per byte, and the empty password is `OBF:`.

use std::fmt::Write as _;

/// The prefix Jetty recognises on an obfuscated password.
pub const PREFIX: &str = "OBF:";

/// Why an `OBF:` value could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObfError {
    /// The value does not start with `OBF:`.
    #[error("not an OBF: value")]
    MissingPrefix,
    /// A group is cut short or is not base 36.
    #[error("OBF: value is malformed at character {0}")]
    Malformed(usize),
    /// The bytes are not UTF-8 text.
    #[error("OBF: value does not decode to UTF-8 text")]
    NotText,
}

/// Writes `password` in Jetty's `OBF:` form.
pub fn obfuscate(password: &str) -> String {
    let bytes = password.as_bytes();
    let mut out = String::with_capacity(PREFIX.len() + bytes.len() * 5);
    out.push_str(PREFIX);
    for (index, &b1) in bytes.iter().enumerate() {
        let b2 = bytes[bytes.len() - 1 - index];
        if b1.is_ascii() && b2.is_ascii() {
            let sum = 127 + u32::from(b1) + u32::from(b2);
            let difference = 127 + u32::from(b1) - u32::from(b2);
            let _ = write!(out, "{:0>4}", base36(sum * 256 + difference));
        } else {
            let pair = u32::from(b1) * 256 + u32::from(b2);
            let _ = write!(out, "U{:0>4}", base36(pair));
        }
    }
    out
}

/// Reads an `OBF:` value back to the password it hides.
pub fn deobfuscate(value: &str) -> Result<String, ObfError> {
    let body = value.strip_prefix(PREFIX).ok_or(ObfError::MissingPrefix)?;
    let mut bytes = Vec::with_capacity(body.len() / 4);
    let mut position = 0;
    while position < body.len() {
        let at = PREFIX.len() + position;
        let non_ascii = body[position..].starts_with('U');
        if non_ascii {
            position += 1;
        }
        let group = body
            .get(position..position + 4)
            .ok_or(ObfError::Malformed(at))?;
        let number = u32::from_str_radix(group, 36).map_err(|_| ObfError::Malformed(at))?;
        position += 4;
        let byte = if non_ascii {
            number / 256
        } else {
            let sum = number / 256;
            let difference = number % 256;
            (sum + difference)
                .checked_sub(254)
                .ok_or(ObfError::Malformed(at))?
                / 2
        };
        bytes.push(u8::try_from(byte).map_err(|_| ObfError::Malformed(at))?);
    }
    String::from_utf8(bytes).map_err(|_| ObfError::NotText)
}

/// `number` in lower-case base 36, without padding.
fn base36(mut number: u32) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = Vec::new();
    loop {
        digits.push(DIGITS[(number % 36) as usize]);
        number /= 36;
        if number == 0 {
            break;
        }
    }
    digits.reverse();
    digits.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Printed by Jetty 9.4's `Password` tool for the same passwords.
    const JETTY_VECTORS: &[(&str, &str)] = &[
        ("secret", "OBF:1yta1t331v8w1v9q1t331ytc"),
        ("p@ss:w0rd!", "OBF:1hvy1ljv1yf41lfm1o3m1o701lbw1yf21llv1hrk"),
        ("é€x", "OBF:U12m0U0xikU18qqU0puqU0y3tU0nur"),
        ("", "OBF:"),
    ];

    #[test]
    fn matches_jetty_output() {
        for (password, expected) in JETTY_VECTORS {
            assert_eq!(obfuscate(password), *expected, "{password:?}");
        }
    }

    #[test]
    fn reads_back_what_it_writes() {
        for (password, value) in JETTY_VECTORS {
            assert_eq!(deobfuscate(value).as_deref(), Ok(*password));
        }
        let mixed = "a\u{7f} ~\"'\\ü日本";
        assert_eq!(deobfuscate(&obfuscate(mixed)).as_deref(), Ok(mixed));
    }

    #[test]
    fn refuses_malformed_values() {
        assert_eq!(deobfuscate("1yta"), Err(ObfError::MissingPrefix));
        assert_eq!(deobfuscate("OBF:1yt"), Err(ObfError::Malformed(4)));
        assert_eq!(deobfuscate("OBF:1yta!!!!"), Err(ObfError::Malformed(8)));
        assert_eq!(deobfuscate("OBF:U"), Err(ObfError::Malformed(4)));
    }

    #[test]
    fn base36_pads_nothing_itself() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }
}
