//! The domain tree page (`/ui/domains`): every domain indented under its parent, with
//! its own certificate, the certificate a handshake naming it gets (the resolver's
//! answer, as `GET /api/resolve/{name}` gives it) and where that comes from: its own,
//! inherited from an ancestor, or none on the domain's path (the listener's certdir or
//! the installation's default certificate). And the form that adds a domain.

use super::page::{html, Chrome, UiSession};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use certfleet_edge::resolver::Source;
use certfleet_edge::tree::DomainTree;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The deepest indentation drawn; deeper domains are drawn at this depth.
const MAX_DEPTH: usize = 8;

/// Where a domain's effective certificate comes from, in words and as a CSS class.
pub struct Origin {
    /// `own`, `inherited`, `certdir` or `default`.
    pub kind: &'static str,
    /// For people: "own", "inherited from example.com", "none → certdir of ws", ...
    pub text: String,
    /// The ancestor it is inherited from, for a link.
    pub from: Option<String>,
}

/// The certificate a handshake for a name gets, and why.
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
    let role = state.default_role();
    let resolution = state.hub.resolve(Some(name), role);
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

/// One domain's row of the tree.
pub struct TreeRow {
    /// The domain.
    pub name: String,
    /// `depth-N` for the indentation.
    pub depth_class: String,
    /// Its depth, 0 for a root.
    pub depth: usize,
    /// Its parent, told to screen readers (the indentation shows it on screen).
    pub parent: Option<String>,
    /// The certificate a handshake gets.
    pub effective: Effective,
    /// ACME is on.
    pub acme: bool,
}

/// The tree page.
#[derive(Template)]
#[template(path = "ui/domains.html")]
pub struct DomainsPage {
    /// The frame.
    pub chrome: Chrome,
    /// The domains, depth first, children by name.
    pub rows: Vec<TreeRow>,
    /// The master domain, if there is one.
    pub master: Option<String>,
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

/// `GET /ui/domains`.
pub async fn page(State(state): State<Arc<AppState>>, UiSession(csrf): UiSession) -> Response {
    let (rows, master) = state
        .domains
        .read(|tree| {
            let rows = tree_order(tree)
                .into_iter()
                .map(|(name, depth)| {
                    let domain = tree.get(&name);
                    TreeRow {
                        acme: domain.is_some_and(|d| d.acme().enabled),
                        parent: domain
                            .and_then(|d| d.parent())
                            .filter(|_| depth > 0)
                            .map(str::to_owned),
                        effective: effective(&state, &name),
                        depth_class: format!("depth-{}", depth.min(MAX_DEPTH)),
                        depth,
                        name,
                    }
                })
                .collect::<Vec<_>>();
            (rows, tree.master().map(|m| m.name().to_owned()))
        })
        .await;
    html(
        StatusCode::OK,
        &DomainsPage {
            chrome: Chrome::new("Domains", "domains", csrf),
            rows,
            master,
        },
    )
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
