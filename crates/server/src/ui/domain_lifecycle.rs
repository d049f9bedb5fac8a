//! The Move and Delete forms of a domain's page (template `ui/domain_lifecycle.html`,
//! included by `ui/domain.html`): the parents a domain may move under, and what a
//! deletion takes with it, spelled out in the confirmation the browser asks before it
//! calls `DELETE /api/domains/{name}` (with `recursive=true` when domains lie below).

use crate::state::AppState;
use std::collections::HashSet;

/// How many names below a domain the page lists before it says "…".
const NAMES_SHOWN: usize = 5;

/// What the Move and Delete forms need to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleForms {
    /// The domain is the master: the root of the tree, which cannot move.
    pub is_master: bool,
    /// The domains it may move under: every other domain but those below it and its
    /// current parent, by name.
    pub parents: Vec<String>,
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
            let in_branch: HashSet<&str> = below.iter().map(String::as_str).collect();
            let parents = tree
                .iter()
                .map(|other| other.name())
                .filter(|other| {
                    *other != name && Some(*other) != domain.parent() && !in_branch.contains(other)
                })
                .map(str::to_owned)
                .collect();
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
                parents,
                below: below.len(),
                below_names,
                confirm,
            }
        })
        .await
}
