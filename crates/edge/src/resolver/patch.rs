//! A [`DomainIndex`] updated for a few changed domains instead of rebuilt from the
//! whole tree: the next snapshot after a change seen through the store's watch.
//!
//! The base layer is shared, not copied; only the delta (the changes since the base was
//! built) is copied. The removed domains get a removal entry in the delta, and each
//! changed domain is re-derived with everything below it, parents before children, by
//! the rule [`DomainIndex::build`] applies to all: its own certificate, else its parent's
//! effective one, flagged when it covers the domain's own name. Nothing else can change
//! what a handshake selects: the exact-name, parent-name and master steps read only the
//! table and the master, which this keeps.
//!
//! Removed names and replaced certificates stay unused; [`DomainIndex::wants_rebuild`]
//! says when they, or the delta, have grown enough for a whole rebuild.

use super::index::{name_at, CertSlot, DomainIndex, Entry, COVERED, NONE, REMOVED};
use crate::error::{EdgeError, Result};
use crate::tree::{Applied, DomainTree};
use std::hash::BuildHasher;
use std::sync::Arc;

impl DomainIndex {
    /// The index of `tree`, which is the tree this index was made from with `applied`
    /// applied.
    pub fn patched(&self, tree: &DomainTree, applied: &Applied) -> Result<DomainIndex> {
        let mut next = self.clone();
        for name in &applied.removed {
            next.remove(name);
        }
        for root in &applied.changed {
            if tree.get(root).is_none() {
                continue; // removed later in the same batch
            }
            next.rederive(tree, root)?;
            for below in tree.descendants(root)? {
                next.rederive(tree, &below)?;
            }
        }
        next.master = match tree.master() {
            Some(master) => Some(next.find(master.name()).ok_or_else(|| {
                EdgeError::Tree(format!("master domain {} is not indexed", master.name()))
            })?),
            None => None,
        };
        Ok(next)
    }

    /// Whether a full [`DomainIndex::build`] is worth its cost: unused names and
    /// certificates left by patches outnumber the domains, or the delta, which every
    /// patch copies, has grown past a sixteenth of the base (and 4,096 entries).
    pub fn wants_rebuild(&self) -> bool {
        self.stale > self.len().max(1024)
            || self.delta.table.len() > (self.base.table.len() / 16).max(4096)
    }

    fn remove(&mut self, name: &str) {
        let Some(entry) = self.find(name) else {
            return;
        };
        self.stale += 1;
        if self.owns_slot(entry) {
            self.stale += 1;
        }
        self.live -= 1;
        self.put(
            name,
            Entry {
                name: entry.name,
                effective: REMOVED,
            },
        );
    }

    /// Whether `entry`'s effective certificate is its own.
    fn owns_slot(&self, entry: Entry) -> bool {
        self.cert_slot(entry.slot())
            .is_some_and(|slot| slot.owner.same(entry))
    }

    /// Sets the delta's entry for `name`, which `entry` names.
    fn put(&mut self, name: &str, entry: Entry) {
        let hash = self.hasher.hash_one(name.as_bytes());
        let (base, arena, hasher) = (&self.base.arena, &self.delta.arena, &self.hasher);
        match self
            .delta
            .table
            .find_mut(hash, |e| name_at(base, arena, e.name) == name.as_bytes())
        {
            Some(slot) => *slot = entry,
            None => {
                self.delta.table.insert_unique(hash, entry, |e| {
                    hasher.hash_one(name_at(base, arena, e.name))
                });
            }
        }
    }

    /// Recomputes one domain's entry from the tree; its parent is already up to date.
    fn rederive(&mut self, tree: &DomainTree, name: &str) -> Result<()> {
        let domain = tree
            .get(name)
            .ok_or_else(|| EdgeError::UnknownDomain(name.to_owned()))?;
        let existing = self.find(name);
        let offset = match existing {
            Some(entry) => entry.name,
            None => self.append_name(name)?,
        };
        let mut effective = match domain.certificate() {
            Some(cert) => {
                let kept = existing.filter(|e| self.owns_slot(*e)).and_then(|e| {
                    let slot = self.cert_slot(e.slot())?;
                    Arc::ptr_eq(&slot.cert, cert.served()).then_some(e.slot())
                });
                match kept {
                    Some(slot) => slot,
                    None => {
                        if existing.is_some_and(|e| self.owns_slot(e)) {
                            self.stale += 1; // the replaced certificate's slot
                        }
                        let slot = u32::try_from(self.cert_slots())
                            .ok()
                            .filter(|n| *n < REMOVED)
                            .ok_or_else(|| {
                                EdgeError::Tree("more than 2 billion certificates".into())
                            })?;
                        self.delta.certs.push(CertSlot {
                            owner: Entry {
                                name: offset,
                                effective: slot,
                            },
                            not_after_unix: cert.served().summary().not_after_unix,
                            cert: Arc::clone(cert.served()),
                        });
                        slot
                    }
                }
            }
            None => {
                if existing.is_some_and(|e| self.owns_slot(e)) {
                    self.stale += 1; // the cleared certificate's slot
                }
                domain
                    .parent()
                    .and_then(|parent| self.find(parent))
                    .map_or(NONE, Entry::slot)
            }
        };
        if self
            .cert_slot(effective)
            .is_some_and(|slot| slot.cert.covers(domain.name()))
        {
            effective |= COVERED;
        }
        if existing.is_none() {
            self.live += 1;
        }
        self.put(
            name,
            Entry {
                name: offset,
                effective,
            },
        );
        Ok(())
    }

    /// Copies a new name into the delta's arena and answers its logical offset.
    fn append_name(&mut self, name: &str) -> Result<u32> {
        let at = self.base.arena.len() + self.delta.arena.len();
        let offset = u32::try_from(at)
            .ok()
            .filter(|_| u32::try_from(at + name.len() + 1).is_ok())
            .ok_or_else(|| EdgeError::Tree("domain names exceed 4 GiB in total".into()))?;
        let len = u8::try_from(name.len())
            .map_err(|_| EdgeError::Tree(format!("domain name {name} is too long")))?;
        self.delta.arena.push(len);
        self.delta.arena.extend_from_slice(name.as_bytes());
        Ok(offset)
    }
}
