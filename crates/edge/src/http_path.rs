//! Request paths as the edge routes them: one canonical spelling per resource, or a refusal.
//!
//! A route protects a path prefix, so every spelling of a path that an upstream would read
//! as the same resource must reach the same route. [`normalise`] turns the path of a
//! request target (origin form, query already split off) into a [`NormalPath`]:
//!
//! 1. percent-encoded *unreserved* characters (`A-Z a-z 0-9 - . _ ~`) are decoded (RFC
//!    3986, section 6.2.2.2) and every other escape is kept, its hex digits upper-cased;
//!    nothing is decoded twice (`%252e` stays `%252E`);
//! 2. repeated slashes are one slash;
//! 3. `.` and `..` segments are removed (RFC 3986, section 5.2.4), `..` taking the segment
//!    before it away.
//!
//! What could still be read two ways is refused ([`PathRejection`]): an encoded `/`
//! (`%2F`) or `\` (`%5C`), a literal `\`, a NUL (encoded or not), a control character, a
//! `..` that climbs above the root, a `%` not followed by two hex digits, a path that
//! does not start with `/`, and a segment whose name before its parameters (`;` or `%3B`)
//! is empty, `.` or `..` (`/..;/admin`, `/;/admin`): upstreams that cut parameters off
//! before resolving dot segments read those as `..`, `.` or nothing.

use std::fmt;

/// A request path in the edge's canonical spelling: starts with `/`, has no empty, `.` or
/// `..` segment (nor one that is so before its `;` parameters), no encoded unreserved
/// character, no `%2F`, `%5C`, `%00` or `\`, and its escapes in upper-case hex. Normalising it again gives it back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalPath(String);

impl NormalPath {
    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path's segments (none for `/`; a trailing slash gives a last empty segment).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        let mut rest = self.0.strip_prefix('/').unwrap_or(&self.0).split('/');
        let root = self.0 == "/";
        if root {
            rest.next();
        }
        rest
    }
}

impl fmt::Display for NormalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for NormalPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Why a path is refused: each is a path that routes and upstreams could read apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathRejection {
    /// The path does not start with `/` (asterisk form, or a bare word).
    #[error("the path does not start with /")]
    NotAbsolute,
    /// `%2F`: a slash inside a segment, which some upstreams decode into a separator.
    #[error("the path holds an encoded slash (%2F)")]
    EncodedSlash,
    /// `%5C`: a backslash, which some upstreams read as a separator.
    #[error("the path holds an encoded backslash (%5C)")]
    EncodedBackslash,
    /// A literal `\`, which some upstreams read as a separator.
    #[error("the path holds a backslash")]
    Backslash,
    /// A NUL, encoded (`%00`) or not, which ends a string for some upstreams.
    #[error("the path holds a NUL byte")]
    Nul,
    /// A literal control character or space.
    #[error("the path holds a control character or a space")]
    Control,
    /// A `%` not followed by two hex digits.
    #[error("the path holds a % that does not start an escape (%XX)")]
    BadEscape,
    /// A segment such as `..;x`, `.;x` or `;x`: empty or a dot segment once an upstream
    /// cuts its parameters off.
    #[error("the path holds a segment that is empty, . or .. before its ; parameters")]
    DotSegmentParameters,
    /// More `..` segments than segments before them.
    #[error("the path climbs above the root with ..")]
    AboveRoot,
}

/// True for the characters RFC 3986 calls unreserved.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Step 1: unreserved escapes decoded, others upper-cased, ambiguous bytes refused.
fn decode_unreserved(path: &str) -> Result<String, PathRejection> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        match byte {
            b'%' => {
                let (high, low) = bytes
                    .get(index + 1)
                    .and_then(|&h| hex_value(h))
                    .zip(bytes.get(index + 2).and_then(|&l| hex_value(l)))
                    .ok_or(PathRejection::BadEscape)?;
                let decoded = high * 16 + low;
                match decoded {
                    b'/' => return Err(PathRejection::EncodedSlash),
                    b'\\' => return Err(PathRejection::EncodedBackslash),
                    0 => return Err(PathRejection::Nul),
                    unreserved if is_unreserved(unreserved) => out.push(char::from(unreserved)),
                    _ => {
                        out.push('%');
                        out.push(char::from(HEX[usize::from(high)]));
                        out.push(char::from(HEX[usize::from(low)]));
                    }
                }
                index += 3;
            }
            b'\\' => return Err(PathRejection::Backslash),
            0 => return Err(PathRejection::Nul),
            control if control.is_ascii_control() || control == b' ' => {
                return Err(PathRejection::Control)
            }
            _ => {
                // Copy the whole run up to the next byte of interest; it is valid UTF-8
                // because it starts and ends on ASCII bytes of `path`, a `str`.
                let end = bytes[index..]
                    .iter()
                    .position(|&b| b == b'%' || b == b'\\' || b.is_ascii_control() || b == b' ')
                    .map_or(bytes.len(), |offset| index + offset);
                out.push_str(&path[index..end]);
                index = end;
            }
        }
    }
    Ok(out)
}

/// A segment without its parameters (`name;param` → `name`); an encoded `;` counts too
/// (`%3B`, upper case once decoded by [`normalise`]), for upstreams that decode before
/// they cut.
pub fn segment_name(segment: &str) -> &str {
    let end = [segment.find(';'), segment.find("%3B")]
        .into_iter()
        .flatten()
        .min();
    end.map_or(segment, |end| &segment[..end])
}

fn is_dot_or_empty(name: &str) -> bool {
    matches!(name, "" | "." | "..")
}

/// Normalises the path of a request target (without its query); see the module docs.
pub fn normalise(path: &str) -> Result<NormalPath, PathRejection> {
    if !path.starts_with('/') {
        return Err(PathRejection::NotAbsolute);
    }
    let decoded = decode_unreserved(path)?;
    let mut kept: Vec<&str> = Vec::new();
    // A path ending in `/`, `/.` or `/..` names a directory: the result ends in `/`.
    let mut trailing_slash = false;
    for segment in decoded.split('/').skip(1) {
        trailing_slash = true;
        match segment {
            "" | "." => {}
            ".." => {
                if kept.pop().is_none() {
                    return Err(PathRejection::AboveRoot);
                }
            }
            name if is_dot_or_empty(segment_name(name)) => {
                return Err(PathRejection::DotSegmentParameters)
            }
            name => {
                kept.push(name);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(decoded.len());
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if trailing_slash || kept.is_empty() {
        out.push('/');
    }
    Ok(NormalPath(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_to_one_spelling() {
        let cases = [
            ("/", "/"),
            ("/admin/secret", "/admin/secret"),
            ("/x/../admin/secret", "/admin/secret"),
            ("/./admin/secret", "/admin/secret"),
            ("//admin/secret", "/admin/secret"),
            ("/admin//secret", "/admin/secret"),
            ("/%61dmin/secret", "/admin/secret"),
            ("/%2e/admin", "/admin"),
            ("/x/%2E%2E/admin", "/admin"),
            ("/x/.%2e/admin", "/admin"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/", "/a/b/"),
            ("/a/b//", "/a/b/"),
            ("/a/..", "/"),
            ("/.", "/"),
            ("//", "/"),
            ("/a/b/../../c", "/c"),
            ("/%7euser/%5F", "/~user/_"),
            ("/caf%c3%a9", "/caf%C3%A9"),
            ("/café", "/café"),
            ("/100%25", "/100%25"),
            ("/%252e%252e/admin", "/%252e%252e/admin"),
            ("/a%3Bb/c%3f", "/a%3Bb/c%3F"),
            ("/a;b=c/d", "/a;b=c/d"),
            ("/..a/a..", "/..a/a.."),
            ("/...", "/..."),
        ];
        for (raw, expected) in cases {
            let normal = normalise(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(normal.as_str(), expected, "{raw}");
            assert_eq!(normalise(normal.as_str()).unwrap(), normal, "{raw} twice");
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        let cases = [
            ("/admin%2fsecret", PathRejection::EncodedSlash),
            ("/admin%2Fsecret", PathRejection::EncodedSlash),
            ("/admin%5csecret", PathRejection::EncodedBackslash),
            ("/admin\\secret", PathRejection::Backslash),
            ("/admin%00", PathRejection::Nul),
            ("/admin\0", PathRejection::Nul),
            ("/a\tb", PathRejection::Control),
            ("/a b", PathRejection::Control),
            ("/..", PathRejection::AboveRoot),
            ("/../admin", PathRejection::AboveRoot),
            ("/a/../../admin", PathRejection::AboveRoot),
            ("/%2e%2e/admin", PathRejection::AboveRoot),
            ("/x/..;/admin", PathRejection::DotSegmentParameters),
            ("/x/..%3b/admin", PathRejection::DotSegmentParameters),
            ("/x/%2e;x/admin", PathRejection::DotSegmentParameters),
            ("/;/admin", PathRejection::DotSegmentParameters),
            ("/app/;jsessionid=1", PathRejection::DotSegmentParameters),
            ("/%", PathRejection::BadEscape),
            ("/%4", PathRejection::BadEscape),
            ("/%zz", PathRejection::BadEscape),
            ("/%%30", PathRejection::BadEscape),
            ("admin", PathRejection::NotAbsolute),
            ("*", PathRejection::NotAbsolute),
            ("", PathRejection::NotAbsolute),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn segments_are_listed_without_the_root() {
        let segments = |raw: &str| {
            normalise(raw)
                .unwrap()
                .segments()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert!(segments("/").is_empty());
        assert_eq!(segments("/a/b"), ["a", "b"]);
        assert_eq!(segments("/a/b/"), ["a", "b", ""]);
    }

    /// Found by the `route_path` fuzz target: `/;/admin` reached the open route, while an
    /// upstream that cuts `;` parameters off reads it as `//admin`, that is `/admin`.
    #[test]
    fn a_segment_of_parameters_only_is_refused() {
        let found = "/;//admin/secrex/n;in/s/aD;x/n;";
        assert_eq!(normalise(found), Err(PathRejection::DotSegmentParameters));
    }
}
