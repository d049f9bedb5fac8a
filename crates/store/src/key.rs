//! Store keys: every key certfleet writes is built here from validated segments, so no
//! caller can write outside its namespace with a name like `a/../../x`.

use crate::error::{Result, StoreError};
use std::fmt;

/// A store key: `/`-separated segments, each checked by [`Key::segment`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(String);

impl Key {
    /// The root prefix (the empty key); listing or watching it covers everything.
    pub fn root() -> Key {
        Key(String::new())
    }

    /// A key from segments, e.g. `Key::from_segments(["domains", "example.com"])`.
    pub fn from_segments<I, S>(segments: I) -> Result<Key>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut key = Key::root();
        for segment in segments {
            key = key.child(segment.as_ref())?;
        }
        Ok(key)
    }

    /// This key with one more segment.
    pub fn child(&self, segment: &str) -> Result<Key> {
        Key::segment(segment)?;
        if self.0.is_empty() {
            Ok(Key(segment.to_owned()))
        } else {
            Ok(Key(format!("{}/{segment}", self.0)))
        }
    }

    /// Checks one segment: not empty, not `.` or `..`, no `/`, `\` or control characters,
    /// at most 255 bytes.
    pub fn segment(segment: &str) -> Result<()> {
        let bad = segment.is_empty()
            || segment == "."
            || segment == ".."
            || segment.len() > 255
            || segment
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control());
        if bad {
            return Err(StoreError::InvalidKey(segment.escape_debug().to_string()));
        }
        Ok(())
    }

    /// Re-reads a key as stored (by a backend listing or watching).
    pub fn parse(stored: &str) -> Result<Key> {
        if stored.is_empty() {
            return Ok(Key::root());
        }
        Key::from_segments(stored.split('/'))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix string that matches this key's descendants (`a/b` → `a/b/`), or the empty
    /// string for the root.
    pub fn descendants_prefix(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            format!("{}/", self.0)
        }
    }

    /// True when `stored` is this key or one of its descendants.
    pub fn covers(&self, stored: &str) -> bool {
        self.0.is_empty() || stored == self.0 || stored.starts_with(&self.descendants_prefix())
    }

    /// The last segment.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_separators_are_refused() {
        for bad in ["..", ".", "", "a/b", "a\\b", "x\n", "a/../../x"] {
            assert!(Key::from_segments(["certs", bad]).is_err(), "{bad:?}");
        }
        assert!(Key::parse("a/../../x").is_err());
        assert!(Key::parse("a//b").is_err());
    }

    #[test]
    fn prefixes_cover_descendants_only() {
        let domains = Key::from_segments(["domains"]).unwrap();
        assert!(domains.covers("domains/example.com"));
        assert!(domains.covers("domains"));
        assert!(!domains.covers("domainsx/example.com"));
        assert!(Key::root().covers("anything"));
        assert_eq!(Key::parse("domains/a.example").unwrap().name(), "a.example");
    }
}
