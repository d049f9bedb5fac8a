//! The domain list's query string: the search (`q`, a substring of the name), the
//! filters (`state`: ok, warning, expired or mismatch; `issuer`; `renewal`: acme, ca,
//! manual or none), the page (`page`, from 1) and the subtrees opened or closed by hand
//! (`open`, `close`, repeated). Links the page draws are this query with one change.

use super::domain_facts::{DomainFacts, Expiry};

/// Rows on one page of the list.
pub const PER_PAGE: usize = 100;
/// A subtree deeper than this is closed until opened.
pub const OPEN_DEPTH: usize = 2;
/// A subtree with more children than this is closed until opened (roots stay open).
pub const OPEN_CHILDREN: usize = 25;

/// The list's query.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// A substring of the name, lower-cased; empty for any.
    pub q: String,
    /// `ok`, `warning`, `expired`, `mismatch`; empty for any.
    pub state: String,
    /// An issuer's distinguished name; empty for any.
    pub issuer: String,
    /// `acme`, `ca`, `manual`, `none`; empty for any.
    pub renewal: String,
    /// The page, from 1.
    pub page: usize,
    /// Subtrees opened by hand.
    pub open: Vec<String>,
    /// Subtrees closed by hand.
    pub close: Vec<String>,
}

impl ListQuery {
    /// Reads the query's pairs; unknown keys and unusable values are left out.
    pub fn from_pairs(pairs: &[(String, String)]) -> ListQuery {
        let mut query = ListQuery {
            page: 1,
            ..ListQuery::default()
        };
        for (key, value) in pairs {
            let value = value.trim();
            match key.as_str() {
                "q" => query.q = value.to_lowercase(),
                "state" if ["ok", "warning", "expired", "mismatch"].contains(&value) => {
                    query.state = value.to_owned();
                }
                "issuer" => query.issuer = value.to_owned(),
                "renewal" if ["acme", "ca", "manual", "none"].contains(&value) => {
                    query.renewal = value.to_owned();
                }
                "page" => query.page = value.parse().unwrap_or(1).max(1),
                "open" if !value.is_empty() => query.open.push(value.to_owned()),
                "close" if !value.is_empty() => query.close.push(value.to_owned()),
                _ => {}
            }
        }
        query
    }

    /// A search or a filter is set: the list is flat, every match shown.
    pub fn filtering(&self) -> bool {
        !(self.q.is_empty()
            && self.state.is_empty()
            && self.issuer.is_empty()
            && self.renewal.is_empty())
    }

    /// Whether `fact` passes the search and the filters.
    pub fn matches(&self, fact: &DomainFacts) -> bool {
        let state = match self.state.as_str() {
            "ok" => fact.expiry == Expiry::Ok && !fact.mismatch,
            "warning" => fact.expiry == Expiry::Warning,
            "expired" => fact.expiry == Expiry::Expired,
            "mismatch" => fact.mismatch,
            _ => true,
        };
        state
            && (self.q.is_empty() || fact.name.contains(&self.q))
            && (self.issuer.is_empty() || fact.issuer == self.issuer)
            && (self.renewal.is_empty() || fact.renewal.as_str() == self.renewal)
    }

    /// Whether the subtree under `fact` is shown: by hand, else by depth and size.
    pub fn is_open(&self, fact: &DomainFacts) -> bool {
        if self.close.contains(&fact.name) {
            false
        } else if self.open.contains(&fact.name) {
            true
        } else {
            fact.depth == 0 || (fact.depth < OPEN_DEPTH && fact.children <= OPEN_CHILDREN)
        }
    }

    /// This query as a link to the list (`/ui/domains?...`).
    pub fn href(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (key, value) in [
            ("q", &self.q),
            ("state", &self.state),
            ("issuer", &self.issuer),
            ("renewal", &self.renewal),
        ] {
            if !value.is_empty() {
                pairs.push((key, value.clone()));
            }
        }
        pairs.extend(self.open.iter().map(|n| ("open", n.clone())));
        pairs.extend(self.close.iter().map(|n| ("close", n.clone())));
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(key, value)| format!("{key}={}", encode(value)))
            .collect();
        if query.is_empty() {
            "/ui/domains".to_owned()
        } else {
            format!("/ui/domains?{}", query.join("&"))
        }
    }

    /// This query on page `page`.
    pub fn on_page(&self, page: usize) -> String {
        ListQuery {
            page,
            ..self.clone()
        }
        .href()
    }

    /// This query with `name`'s subtree opened (`open`) or closed, and a jump to it.
    pub fn toggled(&self, name: &str, open: bool) -> String {
        let mut next = self.clone();
        next.open.retain(|n| n != name);
        next.close.retain(|n| n != name);
        if open {
            next.open.push(name.to_owned());
        } else {
            next.close.push(name.to_owned());
        }
        format!("{}#d-{}", next.href(), encode(name))
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One link of the pager.
pub struct PageLink {
    /// The page's number, or `…` for a gap.
    pub label: String,
    /// Where it goes; `None` for the current page and gaps.
    pub href: Option<String>,
    /// It is the page shown.
    pub current: bool,
}

/// The pager's links for `pages` pages: the first, the last, and two either side of
/// the current page, with gaps between.
pub fn pager(query: &ListQuery, pages: usize) -> Vec<PageLink> {
    if pages <= 1 {
        return Vec::new();
    }
    let current = query.page.min(pages);
    let mut links = Vec::new();
    let mut last_shown = 0;
    for page in 1..=pages {
        let near = page + 2 >= current && page <= current + 2;
        if page != 1 && page != pages && !near {
            continue;
        }
        if page > last_shown + 1 {
            links.push(PageLink {
                label: "…".to_owned(),
                href: None,
                current: false,
            });
        }
        links.push(PageLink {
            label: page.to_string(),
            href: (page != current).then(|| query.on_page(page)),
            current: page == current,
        });
        last_shown = page;
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_query_reads_back_from_its_own_link() {
        let query = ListQuery::from_pairs(&pairs(&[
            ("q", "Shop"),
            ("state", "warning"),
            ("issuer", "CN=Some CA, O=X & Y"),
            ("renewal", "bogus"),
            ("page", "3"),
            ("open", "a.example.test"),
        ]));
        assert_eq!(query.q, "shop");
        assert_eq!(query.renewal, "");
        assert!(query.filtering());
        let href = query.href();
        assert_eq!(
            href,
            "/ui/domains?q=shop&state=warning&issuer=CN%3DSome%20CA%2C%20O%3DX%20%26%20Y&open=a.example.test&page=3"
        );
        assert_eq!(ListQuery::from_pairs(&pairs(&[])).href(), "/ui/domains");
    }

    #[test]
    fn toggling_replaces_an_earlier_choice() {
        let query = ListQuery::from_pairs(&pairs(&[("open", "a.test")]));
        assert_eq!(
            query.toggled("a.test", false),
            "/ui/domains?close=a.test#d-a.test"
        );
    }

    #[test]
    fn the_pager_shows_ends_and_neighbours() {
        let query = ListQuery::from_pairs(&pairs(&[("page", "50")]));
        let labels: Vec<String> = pager(&query, 100).into_iter().map(|l| l.label).collect();
        assert_eq!(labels, ["1", "…", "48", "49", "50", "51", "52", "…", "100"]);
        assert!(pager(&query, 1).is_empty());
    }
}
