//! Shared secrets: the complexity rule administrators are asked to follow, checked and
//! generated (`secret check`, `secret generate`).
//!
//! The default rule: 8 to 64 characters, with at least one upper-case letter, one
//! lower-case letter, one digit and one special character (printable ASCII punctuation).

use crate::error::{Result, SecretError};

/// The bounds and character classes a secret must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretPolicy {
    /// Fewest characters.
    pub min_len: usize,
    /// Most characters.
    pub max_len: usize,
}

impl Default for SecretPolicy {
    fn default() -> Self {
        SecretPolicy {
            min_len: 8,
            max_len: 64,
        }
    }
}

/// Special characters used when generating: punctuation that cmd.exe, PowerShell,
/// POSIX shells, YAML, TOML and properties files all take literally inside an unquoted
/// word (no `% ^ ! & | < > " ' \ $`, backtick, `:`, `=`, `?`, `~` or space).
const GENERATED_SPECIALS: &[u8] = b"+-._@#";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";

impl SecretPolicy {
    /// Every rule `value` breaks, in words; empty when it passes.
    pub fn broken_rules(&self, value: &str) -> Vec<String> {
        let mut broken = Vec::new();
        let length = value.chars().count();
        if length < self.min_len {
            broken.push(format!(
                "too short: {length} characters, at least {} required",
                self.min_len
            ));
        }
        if length > self.max_len {
            broken.push(format!(
                "too long: {length} characters, at most {} allowed",
                self.max_len
            ));
        }
        if !value.chars().any(|c| c.is_ascii_uppercase()) {
            broken.push("no upper-case letter (A-Z)".into());
        }
        if !value.chars().any(|c| c.is_ascii_lowercase()) {
            broken.push("no lower-case letter (a-z)".into());
        }
        if !value.chars().any(|c| c.is_ascii_digit()) {
            broken.push("no digit (0-9)".into());
        }
        if !value.chars().any(|c| c.is_ascii_punctuation()) {
            broken.push("no special character (such as + - . _ @ #)".into());
        }
        if value.chars().any(char::is_control) {
            broken.push("contains control characters".into());
        }
        broken
    }

    /// A random secret of `length` characters satisfying the policy.
    pub fn generate(&self, length: usize) -> Result<String> {
        if length < self.min_len.max(4) || length > self.max_len {
            return Err(SecretError::Secret(format!(
                "--length must be between {} and {}",
                self.min_len.max(4),
                self.max_len
            )));
        }
        let all: Vec<u8> = [UPPER, LOWER, DIGITS, GENERATED_SPECIALS].concat();
        let mut chars: Vec<u8> = vec![
            pick(UPPER)?,
            pick(LOWER)?,
            pick(DIGITS)?,
            pick(GENERATED_SPECIALS)?,
        ];
        while chars.len() < length {
            chars.push(pick(&all)?);
        }
        // Fisher-Yates, so the guaranteed classes are not always in front.
        for i in (1..chars.len()).rev() {
            let j = random_below(i + 1)?;
            chars.swap(i, j);
        }
        // A letter or digit first: a leading `-` reads as an option, `@` as a response
        // file or PowerShell splatting, `#` as a comment.
        // The letters and the digit picked above are always there to swap with.
        if let Some(first_alphanumeric) = chars.iter().position(u8::is_ascii_alphanumeric) {
            chars.swap(0, first_alphanumeric);
        }
        Ok(chars.into_iter().map(char::from).collect())
    }
}

fn random_below(bound: usize) -> Result<usize> {
    // Rejection sampling over u32 keeps the choice uniform.
    let bound32 =
        u32::try_from(bound).map_err(|_| SecretError::Secret("length out of range".into()))?;
    let zone = u32::MAX - (u32::MAX % bound32);
    loop {
        let mut bytes = [0u8; 4];
        aws_lc_rs::rand::fill(&mut bytes)
            .map_err(|_| SecretError::Secret("the random source failed".into()))?;
        let value = u32::from_le_bytes(bytes);
        if value < zone {
            return Ok((value % bound32) as usize);
        }
    }
}

fn pick(set: &[u8]) -> Result<u8> {
    Ok(set[random_below(set.len())?])
}

/// `secret check`'s answer: `ok: ...` when no rule is `broken`, else one
/// `rule broken: ...` line per rule.
pub fn check_text(broken: &[String]) -> String {
    if broken.is_empty() {
        return "ok: the secret satisfies the policy\n".to_owned();
    }
    broken
        .iter()
        .map(|rule| format!("rule broken: {rule}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_text_says_ok_or_each_broken_rule() {
        assert_eq!(check_text(&[]), "ok: the secret satisfies the policy\n");
        let broken = SecretPolicy::default().broken_rules("short");
        let text = check_text(&broken);
        assert_eq!(text.lines().count(), broken.len());
        assert!(
            text.lines().all(|line| line.starts_with("rule broken: ")),
            "{text}"
        );
    }

    #[test]
    fn each_rule_is_named() {
        let policy = SecretPolicy::default();
        assert!(policy.broken_rules("Abcdef1!").is_empty());
        assert_eq!(policy.broken_rules("Ab1!").len(), 1);
        assert!(policy.broken_rules("abcdefg1!")[0].contains("upper-case"));
        assert!(policy.broken_rules("ABCDEFG1!")[0].contains("lower-case"));
        assert!(policy.broken_rules("Abcdefgh!")[0].contains("digit"));
        assert!(policy.broken_rules("Abcdefgh1")[0].contains("special"));
        assert!(policy.broken_rules(&format!("Ab1!{}", "x".repeat(61)))[0].contains("too long"));
    }

    #[test]
    fn generated_secrets_need_no_quoting() {
        let policy = SecretPolicy::default();
        for _ in 0..500 {
            let secret = policy.generate(8).unwrap();
            assert!(
                secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-._@#".contains(&b)),
                "{secret}"
            );
            assert!(secret.as_bytes()[0].is_ascii_alphanumeric(), "{secret}");
        }
    }

    #[test]
    fn generated_secrets_always_pass() {
        let policy = SecretPolicy::default();
        for length in [8, 9, 16, 32, 64] {
            for _ in 0..50 {
                let secret = policy.generate(length).unwrap();
                assert_eq!(secret.len(), length);
                assert!(policy.broken_rules(&secret).is_empty(), "{secret}");
            }
        }
        assert!(policy.generate(7).is_err());
        assert!(policy.generate(65).is_err());
    }
}
