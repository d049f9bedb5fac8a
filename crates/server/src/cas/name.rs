//! CA names: one DNS label (1–63 of `a-z`, `0-9` and `-`, not starting or ending with
//! `-`), so a name is safe as a store key segment, a URL path segment and a file name.

/// Checks a CA name; the error names the field and says what is allowed.
pub fn validate(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if name.is_empty()
        || name.len() > 63
        || !name.chars().all(allowed)
        || name.starts_with('-')
        || name.ends_with('-')
    {
        return Err(format!(
            "name: '{}' is not a CA name: use 1 to 63 of a-z, 0-9 and '-', not starting or ending with '-'",
            name.escape_debug()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn names_are_dns_labels() {
        for good in ["internal", "ca-1", "a", "0"] {
            assert!(validate(good).is_ok(), "{good}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "-a",
            "a-",
            "Internal",
            "a.b",
            "a/b",
            "..",
            long.as_str(),
        ] {
            assert!(validate(bad).unwrap_err().starts_with("name:"), "{bad}");
        }
    }
}
