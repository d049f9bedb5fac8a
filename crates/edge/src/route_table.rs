//! Which route answers a request: routes keyed by host, each under a path prefix.
//!
//! A host key is an exact name or `*.suffix` (one label under the suffix); exact names are
//! tried before the wildcard. Among a host's routes the longest prefix wins, compared
//! segment by segment on a [`NormalPath`], so `/api` answers `/api` and `/api/x` but not
//! `/apix`, and a prefix ending in `/` (`/api/v2/`) answers only paths below it. A
//! segment's parameters (`;jsessionid=...`, which some upstreams drop before routing) are
//! ignored when comparing (`;` or `%3B`), so `/admin;x/secret` is answered by the
//! `/admin` route.

use crate::http_path::{normalise, segment_name, NormalPath};
use std::collections::HashMap;

/// A route's path prefix, checked to be in the canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPrefix {
    text: String,
    /// The segments that must match, without the trailing empty one.
    segments: Vec<String>,
    /// Ends in `/` (and is not `/`): the path needs at least one more segment.
    below_only: bool,
}

/// Why a configured prefix cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// Not in the canonical spelling; `canonical` is what it would be, when it has one.
    #[error("path '{given}' is not in canonical form{}", canonical_hint(.canonical))]
    NotCanonical {
        /// The prefix as configured.
        given: String,
        /// Its canonical spelling, when it has one.
        canonical: Option<String>,
    },
    /// A `;` in a prefix: segment parameters are ignored when matching.
    #[error("path '{0}' holds a ';' (segment parameters are ignored when matching)")]
    Parameters(String),
}

fn canonical_hint(canonical: &Option<String>) -> String {
    canonical
        .as_ref()
        .map_or_else(String::new, |c| format!(" (write '{c}')"))
}

impl PathPrefix {
    /// A prefix from configuration: it must be its own normal form and hold no `;`.
    pub fn new(text: &str) -> Result<PathPrefix, PrefixError> {
        let normal = match normalise(text) {
            Ok(normal) if normal.as_str() == text => normal,
            other => {
                return Err(PrefixError::NotCanonical {
                    given: text.to_owned(),
                    canonical: other.ok().map(|n| n.as_str().to_owned()),
                })
            }
        };
        if text.contains(';') || text.contains("%3B") {
            return Err(PrefixError::Parameters(text.to_owned()));
        }
        let mut segments: Vec<String> = normal.segments().map(str::to_owned).collect();
        let below_only = segments.last().is_some_and(String::is_empty);
        if below_only {
            segments.pop();
        }
        Ok(PathPrefix {
            text: text.to_owned(),
            segments,
            below_only,
        })
    }

    /// The prefix as configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when `path` is this prefix or below it, on a segment boundary.
    pub fn matches(&self, path: &NormalPath) -> bool {
        let mut path_segments = path.segments();
        for wanted in &self.segments {
            match path_segments.next() {
                Some(segment) if segment_name(segment) == wanted => {}
                _ => return false,
            }
        }
        !self.below_only || path_segments.next().is_some()
    }

    /// Orders prefixes most specific first.
    fn specificity(&self) -> (usize, bool) {
        (self.segments.len(), self.below_only)
    }
}

/// The first of `routes` (most specific first) whose prefix matches `path`.
fn first_match<'a, T>(routes: Option<&'a Vec<Entry<T>>>, path: &NormalPath) -> Option<&'a T> {
    routes?
        .iter()
        .find(|entry| entry.prefix.matches(path))
        .map(|entry| &entry.value)
}

/// One route: its prefix and what the caller keeps with it.
#[derive(Debug)]
struct Entry<T> {
    prefix: PathPrefix,
    value: T,
}

/// Routes by host key, each host's most specific prefix first.
#[derive(Debug)]
pub struct RouteTable<T> {
    by_host: HashMap<String, Vec<Entry<T>>>,
}

impl<T> Default for RouteTable<T> {
    fn default() -> Self {
        RouteTable {
            by_host: HashMap::new(),
        }
    }
}

impl<T> RouteTable<T> {
    /// An empty table.
    pub fn new() -> RouteTable<T> {
        RouteTable::default()
    }

    /// Adds a route for `host` (lower-case; may start with `*.`). Of two routes with the
    /// same host and prefix, the first added answers.
    pub fn insert(&mut self, host: &str, prefix: PathPrefix, value: T) {
        let routes = self.by_host.entry(host.to_owned()).or_default();
        routes.push(Entry { prefix, value });
        routes.sort_by_key(|entry| std::cmp::Reverse(entry.prefix.specificity()));
    }

    /// The route for `host` (lower-case, no port) and `path`.
    pub fn find(&self, host: &str, path: &NormalPath) -> Option<&T> {
        let wildcard = || {
            host.split_once('.')
                .and_then(|(_, parent)| self.by_host.get(&format!("*.{parent}")))
        };
        first_match(self.by_host.get(host), path).or_else(|| first_match(wildcard(), path))
    }

    /// Every route that answers `host`, exact ones first.
    pub fn routes_for_host<'a>(&'a self, host: &str) -> impl Iterator<Item = &'a T> + 'a {
        // A `*.` pattern's routes are its own; a name also gets its parent's pattern's.
        let wildcard_key = host
            .split_once('.')
            .filter(|_| !host.starts_with("*."))
            .map(|(_, parent)| format!("*.{parent}"));
        let exact = self.by_host.get(host).into_iter().flatten();
        let wildcard = wildcard_key
            .and_then(|key| self.by_host.get(&key))
            .into_iter()
            .flatten();
        exact.chain(wildcard).map(|entry| &entry.value)
    }

    /// True when some route answers `host`.
    pub fn answers_host(&self, host: &str) -> bool {
        self.routes_for_host(host).next().is_some()
    }

    /// Every host key (exact names and `*.` patterns).
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.by_host.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, &str)]) -> RouteTable<String> {
        let mut table = RouteTable::new();
        for (host, path) in routes {
            let prefix = PathPrefix::new(path).unwrap();
            table.insert(host, prefix, format!("{host}{path}"));
        }
        table
    }

    fn found(table: &RouteTable<String>, host: &str, path: &str) -> Option<String> {
        table.find(host, &normalise(path).unwrap()).cloned()
    }

    #[test]
    fn longest_prefix_on_a_segment_boundary_wins() {
        let host = "app.example.test";
        let table = table(&[(host, "/"), (host, "/api"), (host, "/api/v2/")]);
        let cases = [
            ("/", "/"),
            ("/api", "/api"),
            ("/api/", "/api"),
            ("/api/x", "/api"),
            ("/apix", "/"),
            ("/api/v2", "/api"),
            ("/api/v2/", "/api/v2/"),
            ("/api/v2/users", "/api/v2/"),
            ("/x/../api/v2/users", "/api/v2/"),
            ("/api;x/v2/y", "/api/v2/"),
            ("/api;x", "/api"),
            ("/api%3bx/v2/y", "/api/v2/"),
        ];
        for (path, route) in cases {
            let want = format!("{host}{route}");
            assert_eq!(found(&table, host, path).as_deref(), Some(&*want), "{path}");
        }
        assert_eq!(found(&table, "other.example.test", "/"), None);
    }

    #[test]
    fn without_a_root_route_other_paths_find_nothing() {
        let table = table(&[("a.test", "/admin")]);
        assert_eq!(found(&table, "a.test", "/"), None);
        assert_eq!(found(&table, "a.test", "/admins"), None);
        assert!(found(&table, "a.test", "/admin/x").is_some());
    }

    #[test]
    fn exact_hosts_come_before_wildcards() {
        let table = table(&[("*.example.test", "/"), ("app.example.test", "/only")]);
        let app = "app.example.test";
        assert_eq!(
            found(&table, app, "/only/x").as_deref(),
            Some("app.example.test/only")
        );
        assert_eq!(found(&table, app, "/").as_deref(), Some("*.example.test/"));
        assert_eq!(
            found(&table, "b.example.test", "/").as_deref(),
            Some("*.example.test/")
        );
        assert_eq!(found(&table, "a.b.example.test", "/"), None);
        assert!(table.answers_host(app));
        assert!(table.answers_host("b.example.test"));
        assert!(!table.answers_host("example.test"));
    }

    #[test]
    fn prefixes_must_be_canonical() {
        assert!(PathPrefix::new("/admin").is_ok());
        assert!(PathPrefix::new("/admin/").is_ok());
        let err = PathPrefix::new("/admin//x").unwrap_err();
        assert!(err.to_string().contains("write '/admin/x'"), "{err}");
        assert!(PathPrefix::new("/%61dmin").is_err());
        assert!(PathPrefix::new("/a%2fb").is_err());
        assert!(PathPrefix::new("admin").is_err());
        assert!(matches!(
            PathPrefix::new("/a;b"),
            Err(PrefixError::Parameters(_))
        ));
    }
}
