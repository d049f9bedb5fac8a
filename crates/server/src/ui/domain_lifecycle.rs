//! The Move and Delete forms of a domain's page (template `ui/domain_lifecycle.html`,
//! included by `ui/domain.html`): whether a domain may move and which domains may be its
//! new parent (the form searches them through `/ui/parents?for=NAME` as
//! one types, so the page never lists every domain), and what a deletion takes with it,
//! spelled out in the confirmation the browser asks before it calls
//! `DELETE /api/domains/{name}` (with `recursive=true` when domains lie below).

use crate::state::AppState;
use certfleet_edge::tree::DomainTree;
use std::collections::HashSet;

/// How many names below a domain the page lists before it says "…".
const NAMES_SHOWN: usize = 5;

/// What the Move and Delete forms need to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleForms {
    /// The domain is the master: the root of the tree, which cannot move.
    pub is_master: bool,
    /// Some domain may be its new parent (see [`ParentTest`]).
    pub movable: bool,
    /// How many domains lie below it (they go with it when it is deleted).
    pub below: usize,
    /// A few of their names, comma-separated.
    pub below_names: String,
    /// The question the browser asks before deleting.
    pub confirm: String,
}

/// The forms of domain `name` as the tree holds it now (defaults for an unknown name).
pub async fn forms(state: &AppState, name: &str) -> LifecycleForms {
    state
        .domains
        .read(|tree| {
            let Some(domain) = tree.get(name) else {
                return LifecycleForms::default();
            };
            let name = domain.name();
            let below = tree.descendants(name).unwrap_or_default();
            let movable = ParentTest::of(tree, name)
                .is_some_and(|test| tree.iter().any(|other| test.allows(other.name())));
            let mut below_names = below
                .iter()
                .take(NAMES_SHOWN)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            if below.len() > NAMES_SHOWN {
                below_names.push_str(", …");
            }
            let fallback = match domain.parent() {
                Some(parent) => format!("what {parent} serves"),
                None => "the listener's certdir or the default certificate".to_owned(),
            };
            let confirm = match below.len() {
                0 => format!("Delete the domain {name}? Its certificate and key are deleted with it, and handshakes naming it get {fallback}."),
                1 => format!("Delete the domain {name} and the 1 domain below it ({below_names})? Their certificates and keys are deleted with them."),
                n => format!("Delete the domain {name} and the {n} domains below it ({below_names})? Their certificates and keys are deleted with them."),
            };
            LifecycleForms {
                is_master: domain.parent().is_none(),
                movable,
                below: below.len(),
                below_names,
                confirm,
            }
        })
        .await
}

/// Which domains may become the new parent of one domain: any but itself, the domains
/// below it and its parent now.
pub struct ParentTest {
    name: String,
    parent: Option<String>,
    branch: HashSet<String>,
}

impl ParentTest {
    /// The test for domain `name` of `tree`; `None` for an unknown name.
    pub fn of(tree: &DomainTree, name: &str) -> Option<ParentTest> {
        let domain = tree.get(name)?;
        Some(ParentTest {
            name: domain.name().to_owned(),
            parent: domain.parent().map(str::to_owned),
            branch: tree
                .descendants(domain.name())
                .unwrap_or_default()
                .into_iter()
                .collect(),
        })
    }

    /// Whether `other` may become the parent.
    pub fn allows(&self, other: &str) -> bool {
        other != self.name && self.parent.as_deref() != Some(other) && !self.branch.contains(other)
    }
}
