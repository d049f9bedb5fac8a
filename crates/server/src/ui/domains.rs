//! The domain tree as the pages draw it: the order of the tree (parents before their
//! children, siblings by name), and the certificate a handshake naming a domain gets
//! (the resolver's answer, as `GET /api/resolve/{name}` gives it) with where that comes
//! from: its own, inherited from an ancestor, or none on the domain's path (the
//! listener's certdir or the installation's default certificate). The list page itself
//! is [`super::domain_list`].

use crate::state::AppState;
use certfleet_edge::resolver::{Resolution, Source};
use certfleet_edge::tree::DomainTree;
use std::collections::BTreeMap;

/// Where a domain's effective certificate comes from, in words and as a CSS class.
#[derive(Clone)]
pub struct Origin {
    /// `own`, `inherited`, `certdir` or `default`.
    pub kind: &'static str,
    /// For people: "own", "inherited from example.com", "none → certdir of ws", ...
    pub text: String,
    /// The ancestor it is inherited from, for a link.
    pub from: Option<String>,
}

/// The certificate a handshake for a name gets, and why.
#[derive(Clone)]
pub struct Effective {
    /// Its SHA-1 thumbprint.
    pub sha1: String,
    /// Its end, RFC 3339.
    pub not_after: String,
    /// It has expired.
    pub expired: bool,
    /// Where it comes from.
    pub origin: Origin,
    /// The resolver's sentence.
    pub reason: String,
}

/// What the resolver answers for `name` on the default listener role.
pub fn effective(state: &AppState, name: &str) -> Effective {
    effective_of(state.hub.resolve(Some(name), state.default_role()), name)
}

/// The resolver's answer for `name` as the pages show it.
pub fn effective_of(resolution: Resolution, name: &str) -> Effective {
    let origin = match resolution.source {
        Source::Domain if resolution.domain.as_deref() == Some(name) => Origin {
            kind: "own",
            text: "own certificate".into(),
            from: None,
        },
        Source::Domain => {
            let from = resolution.domain.clone().unwrap_or_default();
            Origin {
                kind: "inherited",
                text: format!("inherited from {from}"),
                from: Some(from),
            }
        }
        Source::Certdir => Origin {
            kind: "certdir",
            text: format!(
                "none on the domain's path → certdir of listener {}",
                resolution.role
            ),
            from: None,
        },
        Source::Default => Origin {
            kind: "default",
            text: "none on the domain's path → the default certificate".into(),
            from: None,
        },
    };
    Effective {
        sha1: resolution.sha1_thumbprint,
        not_after: resolution.not_after,
        expired: resolution.expired,
        origin,
        reason: resolution.reason,
    }
}

/// `(name, depth)` of every domain, each parent before its children, siblings by name.
/// A domain whose parent is unknown counts as a root.
pub fn tree_order(tree: &DomainTree) -> Vec<(String, usize)> {
    let names: Vec<(String, Option<String>)> = tree
        .iter()
        .map(|d| (d.name().to_owned(), d.parent().map(str::to_owned)))
        .collect();
    let known: std::collections::HashSet<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
    let mut children: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    for (name, parent) in &names {
        let parent = parent.as_deref().filter(|p| known.contains(p));
        children.entry(parent).or_default().push(name);
    }
    for list in children.values_mut() {
        list.sort_unstable();
    }
    let mut order = Vec::with_capacity(names.len());
    let mut stack: Vec<(&str, usize)> = children
        .get(&None)
        .map(|roots| roots.iter().rev().map(|r| (*r, 0)).collect())
        .unwrap_or_default();
    while let Some((name, depth)) = stack.pop() {
        order.push((name.to_owned(), depth));
        if let Some(kids) = children.get(&Some(name)) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::tree_order;
    use certfleet_edge::tree::DomainTree;

    #[test]
    fn parents_come_before_their_children() {
        let mut tree = DomainTree::new();
        tree.add("example.test", None).unwrap();
        tree.add("shop.example.test", None).unwrap();
        tree.add("api.shop.example.test", Some("shop.example.test"))
            .unwrap();
        tree.add("blog.example.test", None).unwrap();
        let order = tree_order(&tree);
        let expected = [
            ("example.test", 0),
            ("blog.example.test", 1),
            ("shop.example.test", 1),
            ("api.shop.example.test", 2),
        ];
        assert_eq!(
            order,
            expected
                .iter()
                .map(|(n, d)| (n.to_string(), *d))
                .collect::<Vec<_>>()
        );
    }
}
