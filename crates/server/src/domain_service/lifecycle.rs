//! Deleting a domain with its branch, and moving a domain (with its branch) under
//! another parent, through the [`DomainService`] like every other change.
//!
//! A deletion edits a copy of the tree ([`DomainTree::remove_branch`]), then deletes
//! the records one at a time in its removal order, deepest first: the store has no
//! transaction over several keys, and this order means a crash or a store failure at any
//! moment leaves a valid tree behind, never a child without its parent. Before each
//! domain's record goes, its ACME progress and any TLS-ALPN-01 answer for it go, so no
//! record outlives its domain. Each deleted domain gets an audit record naming the
//! deletion it was part of. After a failure part way, this node serves what the store
//! holds (the domains deleted so far are gone) and the error says how far it got.
//!
//! A move changes one record (the moved domain's parent; the domains below it name
//! their own parents), audited with the old and the new parent.
//!
//! Both swap the changed tree into the certificate hub before answering, so the next
//! handshake already sees it. Each audit record is also one line of the server's log
//! (who, what, which domain: the audit log's own doing).

use super::{DomainError, DomainService};
use certfleet_acme::challenges::Challenges;
use certfleet_acme::state::ProgressBook;
use certfleet_edge::tree::{DomainTree, Moved};
use certfleet_store::Storage;

/// How many names an audit record or log line lists before it says "…".
const NAMES_LISTED: usize = 10;

/// The records kept beside a domain that go when it goes: its ACME progress
/// (`acme/state/NAME`) and its pending TLS-ALPN-01 answer.
pub struct AcmeLeftovers<'a> {
    /// Where the progress is kept.
    pub store: &'a dyn Storage,
    /// The challenge answers shared by the nodes.
    pub challenges: &'a Challenges,
}

impl AcmeLeftovers<'_> {
    async fn forget(&self, name: &str) -> Result<(), String> {
        ProgressBook::new(self.store)
            .remove(name)
            .await
            .map_err(|err| format!("its ACME progress: {err}"))?;
        self.challenges
            .remove_tls_alpn01(name)
            .await
            .map_err(|err| format!("its TLS-ALPN-01 answer: {err}"))
    }
}

/// What a deletion removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The domain named in the request (lower-cased).
    pub name: String,
    /// Its parent; `None` for the master.
    pub parent: Option<String>,
    /// Every domain deleted, deepest first, `name` last.
    pub deleted: Vec<String>,
}

impl DomainService {
    /// Deletes domain `name`, and with `recursive` everything below it (refused with
    /// [`certfleet_edge::EdgeError::Tree`] when it has children and `recursive` is false). Audited as
    /// `actor`; `acme` is where the domains' ACME records are forgotten.
    pub async fn delete_branch(
        &self,
        actor: &str,
        name: &str,
        recursive: bool,
        acme: AcmeLeftovers<'_>,
    ) -> Result<Deleted, DomainError> {
        let mut tree = self.tree.lock().await;
        let (root, parent) = match tree.get(name) {
            Some(domain) => (domain.name().to_owned(), domain.parent().map(str::to_owned)),
            None => return Err(DomainError::NotFound(name.to_ascii_lowercase())),
        };
        let mut next = tree.clone();
        let deleted: Vec<String> = next
            .remove_branch(&root, recursive)?
            .iter()
            .map(|domain| domain.name().to_owned())
            .collect();
        let root_detail = root_detail(parent.as_deref(), &deleted);
        let branch_detail = format!("deleted with {root}, which was deleted recursively");
        for (done, each) in deleted.iter().enumerate() {
            let detail = if *each == root {
                &root_detail
            } else {
                &branch_detail
            };
            let step = async {
                acme.forget(each).await?;
                self.repository
                    .delete_audited(each, actor, Some(detail))
                    .await
                    .map_err(|err| err.to_string())
            };
            if let Err(err) = step.await {
                // What the store holds is a valid tree (deepest first): serve it.
                let served = match self.reload_locked(&mut tree).await {
                    Ok(_) => "this node serves what the store holds".to_owned(),
                    Err(reload) => format!("re-reading the store failed too: {reload}"),
                };
                return Err(DomainError::Storage(format!(
                    "deleting domain {each}: {err}; {done} of the {} domains were deleted; {served}",
                    deleted.len()
                )));
            }
        }
        self.hub.set_tree(&next).map_err(|err| {
            DomainError::Storage(format!("indexing the tree after deleting {root}: {err}"))
        })?;
        *tree = next;
        Ok(Deleted {
            name: root,
            parent,
            deleted,
        })
    }

    /// Moves domain `name` (with its branch) under `parent`, audited as `actor`; `view`
    /// then runs on the changed tree, under the same lock. Moving a domain under the
    /// parent it has changes nothing and is not audited.
    pub async fn move_branch<T>(
        &self,
        actor: &str,
        name: &str,
        parent: &str,
        view: impl FnOnce(&DomainTree, &Moved) -> T,
    ) -> Result<T, DomainError> {
        let mut tree = self.tree.lock().await;
        if tree.get(name).is_none() {
            return Err(DomainError::NotFound(name.to_ascii_lowercase()));
        }
        if tree.get(parent).is_none() {
            return Err(DomainError::Invalid(format!(
                "parent: no domain is named {}",
                parent.to_ascii_lowercase()
            )));
        }
        let mut next = tree.clone();
        let moved = next.move_under(name, parent)?;
        if !moved.changed() {
            return Ok(view(&tree, &moved));
        }
        let record = next
            .get(&moved.name)
            .map(|domain| domain.to_record())
            .ok_or_else(|| {
                DomainError::Storage(format!("{} vanished from the changed tree", moved.name))
            })?;
        let detail = move_detail(&moved);
        self.repository
            .save_audited(&record, actor, "domain.move", Some(&detail))
            .await
            .map_err(|err| DomainError::Storage(format!("saving domain {}: {err}", moved.name)))?;
        self.hub.set_tree(&next).map_err(|err| {
            DomainError::Storage(format!(
                "indexing the tree after moving {}: {err}",
                moved.name
            ))
        })?;
        *tree = next;
        Ok(view(&tree, &moved))
    }
}

/// The audit detail of the domain a deletion named.
fn root_detail(parent: Option<&str>, deleted: &[String]) -> String {
    let place = match parent {
        Some(parent) => format!("deleted from under {parent}"),
        None => "deleted the master domain".to_owned(),
    };
    match deleted.len() - 1 {
        0 => place,
        below => format!(
            "{place}, recursively with {}: {}",
            domains_below(below),
            listed(&deleted[..below])
        ),
    }
}

/// The audit detail of a move: the old and the new parent, and what moved with it.
fn move_detail(moved: &Moved) -> String {
    let mut detail = format!("parent {} -> {}", moved.old_parent, moved.new_parent);
    if !moved.descendants.is_empty() {
        detail.push_str(&format!(
            "; with {}: {}",
            domains_below(moved.descendants.len()),
            listed(&moved.descendants)
        ));
    }
    detail
}

/// "the domain below it" or "the N domains below it".
fn domains_below(count: usize) -> String {
    match count {
        1 => "the domain below it".to_owned(),
        n => format!("the {n} domains below it"),
    }
}

/// Up to [`NAMES_LISTED`] names, comma-separated, then "…" when there are more.
fn listed(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(NAMES_LISTED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > NAMES_LISTED {
        text.push_str(", …");
    }
    text
}

#[cfg(test)]
mod failure_tests;
#[cfg(test)]
mod tests;
