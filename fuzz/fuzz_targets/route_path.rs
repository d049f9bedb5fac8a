//! Request paths and route choice: `certfleet_edge::http_path::normalise` and
//! `certfleet_edge::route_table::RouteTable::find` on arbitrary paths.
//!
//! Beyond "no panic":
//! - normalising is idempotent, and its output starts with `/` and holds no `//`, no `.`
//!   or `..` segment, no `\`, no `%2F`, `%5C` or `%00`, and no lower-case escape;
//! - a path is never routed to a less protected route than the one an upstream would
//!   serve it from: an independent, lenient reading of the raw path (every escape
//!   decoded, `\` as `/`, dot segments resolved at the root, empty segments and segment
//!   parameters dropped, a trailing `/` kept) that lands under a protected prefix means the edge refuses the
//!   path or routes it to that prefix's route (or a more specific protected one).

#![no_main]

use certfleet_edge::http_path::normalise;
use certfleet_edge::route_table::{PathPrefix, RouteTable};
use libfuzzer_sys::fuzz_target;

/// The routes of one host: (prefix, protected).
const ROUTES: [(&str, bool); 5] = [
    ("/", false),
    ("/admin", true),
    ("/admin/public/", false),
    ("/api/v1/", true),
    ("/static", false),
];

/// The segments an upstream could read in `raw`, whatever its decoding habits (a
/// directory ends in an empty segment).
fn lenient_reading(raw: &[u8]) -> Vec<Vec<u8>> {
    let mut decoded = Vec::with_capacity(raw.len());
    let mut index = 0;
    while index < raw.len() {
        let escape = raw.get(index + 1..index + 3).and_then(|hex| {
            std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (raw[index], escape) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    let mut segments: Vec<Vec<u8>> = Vec::new();
    // A path ending in `/`, `/.` or `/..` names a directory: an empty last segment.
    let mut directory = false;
    for segment in decoded.split(|&b| b == b'/' || b == b'\\').skip(1) {
        let name = segment.split(|&b| b == b';').next().unwrap_or_default();
        directory = true;
        match name {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            _ => {
                segments.push(name.to_vec());
                directory = false;
            }
        }
    }
    if directory && !segments.is_empty() {
        segments.push(Vec::new());
    }
    segments
}

/// What an upstream serving `segments` would protect, by the most specific prefix.
fn protected_by_reading(segments: &[Vec<u8>]) -> bool {
    let starts = |prefix: &[&str], below_only: bool| {
        segments.len() >= prefix.len() + usize::from(below_only)
            && prefix
                .iter()
                .zip(segments)
                .all(|(want, got)| want.as_bytes() == got.as_slice())
    };
    if starts(&["admin", "public"], true) {
        return false;
    }
    starts(&["admin"], false) || starts(&["api", "v1"], true)
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let mut table = RouteTable::new();
    for (prefix, protected) in ROUTES {
        let prefix = PathPrefix::new(prefix).expect("the fixed prefixes are canonical");
        table.insert("app.test", prefix, protected);
    }

    let Ok(normal) = normalise(raw) else {
        return;
    };
    let text = normal.as_str();
    assert!(text.starts_with('/'), "{raw:?} -> {text:?}");
    assert_eq!(
        normalise(text).as_ref(),
        Ok(&normal),
        "not idempotent: {raw:?}"
    );
    assert!(!text.contains("//"), "{raw:?} -> {text:?}");
    assert!(!text.contains('\\'), "{raw:?} -> {text:?}");
    for segment in text.split('/').skip(1) {
        assert!(segment != "." && segment != "..", "{raw:?} -> {text:?}");
    }
    let upper = text.to_ascii_uppercase();
    for forbidden in ["%2F", "%5C", "%00"] {
        assert!(!upper.contains(forbidden), "{raw:?} -> {text:?}");
    }
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices('%') {
        let escape = &bytes[at + 1..at + 3];
        assert!(
            escape
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
            "{raw:?} -> {text:?}"
        );
    }

    let routed_protected = table.find("app.test", &normal).copied().unwrap_or(false);
    if protected_by_reading(&lenient_reading(raw.as_bytes())) {
        assert!(
            routed_protected,
            "{raw:?} reads as a protected path but routes as {text:?} to an open route"
        );
    }
});
