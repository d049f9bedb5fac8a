//! An undo journal, so that a change can edit the tree itself rather than a copy (a
//! copy of a million domains costs far more than the change): while a journal is open,
//! every domain about to change is noted as it was, once; [`DomainTree::rollback`]
//! puts them all back, [`DomainTree::commit`] keeps the changes and answers which
//! domains they touched, as [`Applied`] for the SNI index.

use super::{Domain, DomainTree};
use crate::tree::Applied;

/// The domains noted since the journal opened, each as it was then (`None`: absent).
pub(super) type Journal = Vec<(String, Option<Domain>)>;

impl DomainTree {
    /// Opens a journal (a journal already open is discarded).
    pub fn begin(&mut self) {
        self.journal = Some(Vec::new());
    }

    /// The domains changed since the journal opened: those still in the tree as
    /// changed, the others as removed.
    pub fn touched(&self) -> Applied {
        let mut applied = Applied::default();
        for (name, _) in self.journal.iter().flatten() {
            if self.domains.contains_key(name) {
                applied.changed.push(name.clone());
            } else {
                applied.removed.push(name.clone());
            }
        }
        applied
    }

    /// Closes the journal, keeping the changes.
    pub fn commit(&mut self) {
        self.journal = None;
    }

    /// Closes the journal, putting every noted domain back as it was.
    pub fn rollback(&mut self) {
        let Some(journal) = self.journal.take() else {
            return;
        };
        for (name, before) in journal.into_iter().rev() {
            if let Some(now) = self.domains.remove(&name) {
                if let Some(parent) = &now.parent {
                    self.unlink(parent, &name);
                }
                if self.master.as_deref() == Some(name.as_str()) {
                    self.master = None;
                }
            }
            if let Some(domain) = before {
                match &domain.parent {
                    Some(parent) => self.link(parent, &name),
                    None => self.master = Some(name.clone()),
                }
                self.domains.insert(name, domain);
            }
        }
    }

    /// The domain `name` as it was when the journal opened (as it is, without one).
    pub fn before_changes(&self, name: &str) -> Option<&Domain> {
        let noted = self
            .journal
            .iter()
            .flatten()
            .find(|(noted, _)| noted == name);
        match noted {
            Some((_, before)) => before.as_ref(),
            None => self.get(name),
        }
    }

    /// Notes `name` as it is now, unless already noted.
    pub(super) fn note(&mut self, name: &str) {
        let Some(journal) = &self.journal else {
            return;
        };
        if journal.iter().any(|(noted, _)| noted == name) {
            return;
        }
        let before = self.domains.get(name).cloned();
        if let Some(journal) = &mut self.journal {
            journal.push((name.to_owned(), before));
        }
    }
}
