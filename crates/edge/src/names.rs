//! Domain names as the tree stores them and SNI names as handshakes bring them.
//!
//! Domains are DNS host names, lower-cased, without a trailing dot and without wildcards
//! (a wildcard is a certificate's business, not a domain's). SNI names are normalised the
//! same way on the handshake path, into a stack buffer so that no allocation happens.
//! [`covers`] is the browser rule for SANs: an exact match, or a `*.` wildcard standing
//! for exactly one leftmost label.

use crate::error::{EdgeError, Result};

/// The longest DNS name (RFC 1035), and so the size of the SNI normalisation buffer.
pub const MAX_NAME_LEN: usize = 253;

/// Validates a domain name and returns it lower-cased, without a trailing dot.
pub fn domain_name(name: &str) -> Result<String> {
    let trimmed = name.trim();
    if trimmed.starts_with("*.") {
        return Err(EdgeError::InvalidName {
            name: name.to_owned(),
            reason: "a domain cannot be a wildcard; name the domain itself (a wildcard certificate may cover it)".into(),
        });
    }
    match certfleet_pki::names::dns(trimmed) {
        Ok(certfleet_pki::names::San::Dns(lower)) => Ok(lower),
        Ok(certfleet_pki::names::San::Ip(_)) | Err(_) => Err(EdgeError::InvalidName {
            name: name.to_owned(),
            reason: "letters, digits and hyphens in dot-separated labels of 1 to 63 characters, 253 at most".into(),
        }),
    }
}

/// Normalises an SNI name into `buf` (ASCII lower case, trailing dot removed) without
/// allocating. `None` for an empty name, one longer than [`MAX_NAME_LEN`], or one that is
/// not ASCII (clients send A-labels; anything else cannot name a domain).
pub fn normalise_sni<'b>(name: &str, buf: &'b mut [u8; MAX_NAME_LEN]) -> Option<&'b str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.is_ascii() {
        return None;
    }
    let out = &mut buf[..name.len()];
    out.copy_from_slice(name.as_bytes());
    out.make_ascii_lowercase();
    // ASCII in, ASCII out: always valid UTF-8.
    std::str::from_utf8(out).ok()
}

/// The parent names of `name`, nearest first: `a.b.example` gives `b.example`, then
/// `example`.
pub fn parent_names(name: &str) -> impl Iterator<Item = &str> {
    let mut rest = name;
    std::iter::from_fn(move || {
        let dot = rest.find('.')?;
        rest = &rest[dot + 1..];
        (!rest.is_empty()).then_some(rest)
    })
}

/// Whether a SAN DNS name (lower-cased) covers `name` (lower-cased): equal, or `*.rest`
/// where `name` is one label followed by `.rest`.
pub fn covers(san: &str, name: &str) -> bool {
    if san == name {
        return true;
    }
    match san.strip_prefix("*.") {
        Some(rest) => match name.split_once('.') {
            Some((label, tail)) => !label.is_empty() && tail == rest,
            None => false,
        },
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_lower_cased_and_checked() {
        assert_eq!(
            domain_name("Shop.Example.TEST.").unwrap(),
            "shop.example.test"
        );
        assert!(domain_name("*.example.test").is_err());
        assert!(domain_name("bad..name").is_err());
        assert!(domain_name("has space.example").is_err());
        assert!(domain_name("").is_err());
    }

    #[test]
    fn sni_is_normalised_without_allocating() {
        let mut buf = [0u8; MAX_NAME_LEN];
        assert_eq!(
            normalise_sni("WWW.Example.test.", &mut buf),
            Some("www.example.test")
        );
        assert_eq!(normalise_sni("", &mut buf), None);
        assert_eq!(normalise_sni(&"a".repeat(254), &mut buf), None);
        assert_eq!(normalise_sni("bücher.example", &mut buf), None);
    }

    #[test]
    fn parent_names_drop_one_label_at_a_time() {
        let names: Vec<&str> = parent_names("a.b.example.test").collect();
        assert_eq!(names, ["b.example.test", "example.test", "test"]);
        assert_eq!(parent_names("localhost").count(), 0);
    }

    #[test]
    fn wildcards_cover_exactly_one_label() {
        assert!(covers("shop.example.test", "shop.example.test"));
        assert!(covers("*.example.test", "shop.example.test"));
        assert!(!covers("*.example.test", "example.test"));
        assert!(!covers("*.example.test", "a.shop.example.test"));
        assert!(!covers("shop.example.test", "www.shop.example.test"));
    }
}
