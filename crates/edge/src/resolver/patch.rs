//! A [`DomainIndex`] updated for a few changed domains instead of rebuilt from the
//! whole tree: the next snapshot after a change seen through the store's watch.
//!
//! The index is copied (its arena, table and certificate slots are flat arrays, so the
//! copy is a few memory copies, no hashing and no certificate parsing), the removed
//! domains leave the table, and each changed domain is re-derived with everything below
//! it, parents before children, by the rule [`DomainIndex::build`] applies to all: its
//! own certificate, else its parent's effective one, flagged when it covers the
//! domain's own name. Nothing else can change what a handshake selects: the exact-name,
//! parent-name and master steps read only the table and the master, which this keeps.
//!
//! Removed names and replaced certificates stay in the arena and slot list unused;
//! [`DomainIndex::wants_rebuild`] says when they outweigh the live ones.

use super::index::{name_in, CertSlot, DomainIndex, Entry, COVERED, NONE};
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

    /// Whether unused names and certificates left by patches outnumber the domains, so
    /// that a full [`DomainIndex::build`] is worth its cost.
    pub fn wants_rebuild(&self) -> bool {
        self.stale > self.len().max(1024)
    }

    fn remove(&mut self, name: &str) {
        let hash = self.hasher.hash_one(name.as_bytes());
        let arena = &self.arena;
        if let Ok(found) = self
            .table
            .find_entry(hash, |e| name_in(arena, e.name) == name.as_bytes())
        {
            let (entry, _) = found.remove();
            self.stale += 1;
            if self.owns_slot(entry) {
                self.stale += 1;
            }
        }
    }

    /// Whether `entry`'s effective certificate is its own.
    fn owns_slot(&self, entry: Entry) -> bool {
        self.certs
            .get(entry.slot() as usize)
            .is_some_and(|slot| slot.owner.same(entry))
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
                    let slot = self.certs.get(e.slot() as usize)?;
                    Arc::ptr_eq(&slot.cert, cert.served()).then_some(e.slot())
                });
                match kept {
                    Some(slot) => slot,
                    None => {
                        if existing.is_some_and(|e| self.owns_slot(e)) {
                            self.stale += 1; // the replaced certificate's slot
                        }
                        let slot = u32::try_from(self.certs.len())
                            .ok()
                            .filter(|n| *n < NONE)
                            .ok_or_else(|| {
                                EdgeError::Tree("more than 2 billion certificates".into())
                            })?;
                        self.certs.push(CertSlot {
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
            .certs
            .get(effective as usize)
            .is_some_and(|slot| slot.cert.covers(domain.name()))
        {
            effective |= COVERED;
        }
        let entry = Entry {
            name: offset,
            effective,
        };
        let hash = self.hasher.hash_one(name.as_bytes());
        let (arena, hasher) = (&self.arena, &self.hasher);
        match self
            .table
            .find_mut(hash, |e| name_in(arena, e.name) == name.as_bytes())
        {
            Some(slot) => *slot = entry,
            None => {
                self.table
                    .insert_unique(hash, entry, |e| hasher.hash_one(name_in(arena, e.name)));
            }
        }
        Ok(())
    }

    /// Copies a new name into the arena and answers its offset.
    fn append_name(&mut self, name: &str) -> Result<u32> {
        let offset = u32::try_from(self.arena.len())
            .ok()
            .filter(|at| u32::try_from(*at as usize + name.len() + 1).is_ok())
            .ok_or_else(|| EdgeError::Tree("domain names exceed 4 GiB in total".into()))?;
        let len = u8::try_from(name.len())
            .map_err(|_| EdgeError::Tree(format!("domain name {name} is too long")))?;
        self.arena.push(len);
        self.arena.extend_from_slice(name.as_bytes());
        Ok(offset)
    }
}
