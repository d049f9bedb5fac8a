//! The domain tree flattened for handshakes: names in one arena and a hash table from
//! name to the certificate the domain serves, computed once when the index is built.
//!
//! Layout, chosen for a million domains and for few cache misses per lookup: every name
//! lives once in a byte arena, prefixed by its length; the hash table
//! (`hashbrown::HashTable`) holds 8-byte [`Entry`]s: the name's offset and the index of
//! the domain's effective certificate (its own, else the nearest ancestor's). Parents are
//! needed only while building, so a lookup touches the table's control bytes, the entry
//! and the name, nothing else. The hasher is std's randomly keyed SipHash, because SNI
//! names come from anyone on the network.
//!
//! An index has two layers. The base, built from the whole tree, is shared by every
//! snapshot patched from it (an `Arc`); the delta holds what patches changed since: names
//! added, entries changed or removed (a removal is an entry marked [`REMOVED`]) and
//! certificates added. Offsets and certificate indices run on from the base's into the
//! delta's, so an [`Entry`] means the same in both. A lookup asks the delta first when it
//! is not empty. A patch copies only the delta, so a change costs the same at a thousand
//! domains as at a million, until the delta grows large enough for a rebuild
//! ([`DomainIndex::wants_rebuild`]).

use crate::certificate::ServedCertificate;
use crate::error::{EdgeError, Result};
use crate::tree::{Domain, DomainTree};
use hashbrown::HashTable;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

/// The flag bit of [`Entry::effective`]: the certificate covers the domain's own name.
pub(super) const COVERED: u32 = 1 << 31;
/// Marks "no certificate" (and "no parent" while building).
pub(super) const NONE: u32 = !COVERED;
/// The `effective` of a delta entry that removes a base domain.
pub(super) const REMOVED: u32 = NONE - 1;

/// One domain in the table: where its name is, and which certificate it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(super) name: u32,
    /// Index into `certs` (or [`NONE`]), with [`COVERED`] set when that certificate
    /// covers this domain's own name, so an exact match needs no SAN comparison.
    pub(super) effective: u32,
}

impl Entry {
    /// Whether two entries are the same domain.
    pub(crate) fn same(self, other: Entry) -> bool {
        self.name == other.name
    }

    /// Whether the effective certificate covers this domain's own name.
    pub(crate) fn own_name_covered(self) -> bool {
        self.effective & COVERED != 0
    }

    pub(super) fn slot(self) -> u32 {
        self.effective & NONE
    }
}

/// A certificate of the tree, the domain that carries it, and its expiry kept inline.
/// The key is reached through the certificate: a stored certificate's key is read on
/// its first handshake.
#[derive(Debug, Clone)]
pub(crate) struct CertSlot {
    pub(crate) owner: Entry,
    pub(crate) not_after_unix: i64,
    pub(crate) cert: Arc<ServedCertificate>,
}

/// Names, their entries and certificates: the whole of a base, or a delta's additions.
#[derive(Debug, Clone, Default)]
pub(super) struct Layer {
    pub(super) arena: Vec<u8>,
    pub(super) table: HashTable<Entry>,
    pub(super) certs: Vec<CertSlot>,
}

/// An immutable, hashed copy of a [`DomainTree`] for lookups in O(1) per name.
#[derive(Debug, Clone)]
pub struct DomainIndex {
    pub(super) base: Arc<Layer>,
    pub(super) delta: Layer,
    pub(super) hasher: RandomState,
    pub(super) master: Option<Entry>,
    /// The number of domains.
    pub(super) live: usize,
    /// Names and certificate slots left unused by patches (see `patch`).
    pub(super) stale: usize,
}

impl Default for DomainIndex {
    fn default() -> Self {
        DomainIndex {
            base: Arc::new(Layer::default()),
            delta: Layer::default(),
            hasher: RandomState::new(),
            master: None,
            live: 0,
            stale: 0,
        }
    }
}

impl DomainIndex {
    /// An index of no domains: every handshake falls through to certdir or default.
    pub fn empty() -> Self {
        DomainIndex::default()
    }

    /// Flattens a (valid) tree and precomputes each domain's effective certificate.
    pub fn build(tree: &DomainTree) -> Result<Self> {
        let count = tree.len();
        // Certificate indices must stay below NONE (2^31 - 1).
        if u32::try_from(count).map_or(true, |n| n >= REMOVED) {
            return Err(EdgeError::Tree("more than 2 billion domains".into()));
        }
        let arena_len: usize = tree.iter().map(|d| d.name().len() + 1).sum();
        if u32::try_from(arena_len).is_err() {
            return Err(EdgeError::Tree("domain names exceed 4 GiB in total".into()));
        }
        let mut index = Layer {
            arena: Vec::with_capacity(arena_len),
            table: HashTable::with_capacity(count),
            certs: Vec::new(),
        };
        let hasher = RandomState::new();
        // Domain `i` (in name order) is entries[i]; parents[i] its parent's position.
        let mut entries = Vec::with_capacity(count);
        for domain in tree.iter() {
            let name = domain.name().as_bytes();
            // Fits: the arena's total length was checked against u32 above.
            let offset = index.arena.len() as u32;
            // Names are at most 253 bytes: checked whenever a domain is added.
            index
                .arena
                .push(u8::try_from(name.len()).unwrap_or(u8::MAX));
            index.arena.extend_from_slice(name);
            entries.push(Entry {
                name: offset,
                effective: NONE,
            });
        }
        let position: std::collections::HashMap<&str, u32> =
            tree.iter().map(Domain::name).zip(0..).collect();
        let mut parents = vec![NONE; count];
        let mut master = None;
        for (i, domain) in tree.iter().enumerate() {
            match domain.parent() {
                Some(parent) => {
                    parents[i] = *position.get(parent).ok_or_else(|| {
                        EdgeError::Tree(format!("domain {}: no parent {parent}", domain.name()))
                    })?;
                }
                None => master = Some(i),
            }
            if let Some(cert) = domain.certificate() {
                // At most one certificate per domain, and domains fit u32 (checked).
                entries[i].effective = index.certs.len() as u32;
                index.certs.push(CertSlot {
                    owner: entries[i],
                    not_after_unix: cert.served().summary().not_after_unix,
                    cert: Arc::clone(cert.served()),
                });
            }
        }
        drop(position);
        inherit(&mut entries, &parents)?;
        for entry in &mut entries {
            let name = std::str::from_utf8(name_in(&index.arena, entry.name)).unwrap_or_default();
            if let Some(slot) = index.certs.get(entry.slot() as usize) {
                if slot.cert.covers(name) {
                    entry.effective |= COVERED;
                }
            }
        }
        let master = master.map(|i| entries[i]);
        for entry in entries {
            let hash = hasher.hash_one(name_in(&index.arena, entry.name));
            let arena = &index.arena;
            index
                .table
                .insert_unique(hash, entry, |e| hasher.hash_one(name_in(arena, e.name)));
        }
        Ok(DomainIndex {
            base: Arc::new(index),
            delta: Layer::default(),
            hasher,
            master,
            live: count,
            stale: 0,
        })
    }

    /// The domain of a name (already lower-cased).
    pub(crate) fn find(&self, name: &str) -> Option<Entry> {
        let hash = self.hasher.hash_one(name.as_bytes());
        if !self.delta.table.is_empty() {
            if let Some(entry) = self
                .delta
                .table
                .find(hash, |e| self.name_bytes(*e) == name.as_bytes())
            {
                return (entry.effective != REMOVED).then_some(*entry);
            }
        }
        let arena = &self.base.arena;
        self.base
            .table
            .find(hash, |e| name_in(arena, e.name) == name.as_bytes())
            .copied()
    }

    /// The name of a domain.
    pub(crate) fn name(&self, entry: Entry) -> &str {
        // Names were valid `str`s (ASCII) when copied in.
        std::str::from_utf8(self.name_bytes(entry)).unwrap_or_default()
    }

    pub(super) fn name_bytes(&self, entry: Entry) -> &[u8] {
        name_at(&self.base.arena, &self.delta.arena, entry.name)
    }

    /// The certificate a domain serves (its own or inherited) and the domain carrying it.
    pub(crate) fn effective(&self, entry: Entry) -> Option<&CertSlot> {
        self.cert_slot(entry.slot())
    }

    /// The certificate at `slot`, in the base or the delta.
    pub(super) fn cert_slot(&self, slot: u32) -> Option<&CertSlot> {
        let at = slot as usize;
        match at.checked_sub(self.base.certs.len()) {
            None => self.base.certs.get(at),
            Some(in_delta) => self.delta.certs.get(in_delta),
        }
    }

    /// The number of certificate slots, base and delta.
    pub(super) fn cert_slots(&self) -> usize {
        self.base.certs.len() + self.delta.certs.len()
    }

    /// The master domain.
    pub(crate) fn master(&self) -> Option<Entry> {
        self.master
    }

    /// The number of domains.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when the index holds no domain.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The domain whose certificate a handshake naming `name` exactly gets (for the
    /// "effective certificate" column of listings).
    pub fn effective_domain(&self, name: &str) -> Option<&str> {
        let entry = self.find(&name.to_ascii_lowercase())?;
        self.effective(entry).map(|slot| self.name(slot.owner))
    }

    /// Approximate heap bytes held by the index itself (certificates not counted).
    pub fn heap_bytes(&self) -> usize {
        self.base.heap_bytes() + self.delta.heap_bytes()
    }
}

impl Layer {
    fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.table.capacity() * (size_of::<Entry>() + 1)
            + self.certs.capacity() * size_of::<CertSlot>()
    }
}

/// The length-prefixed name at a logical `offset`: in `base`, or past its end in `delta`.
pub(super) fn name_at<'a>(base: &'a [u8], delta: &'a [u8], offset: u32) -> &'a [u8] {
    match (offset as usize).checked_sub(base.len()) {
        None => name_in(base, offset),
        // The delta's offsets are below the base's length plus its own (u32, checked
        // when the name was appended).
        Some(in_delta) => name_in(delta, in_delta as u32),
    }
}

/// The length-prefixed name at `offset`.
pub(super) fn name_in(arena: &[u8], offset: u32) -> &[u8] {
    let at = offset as usize;
    let len = arena.get(at).copied().unwrap_or(0) as usize;
    arena.get(at + 1..at + 1 + len).unwrap_or_default()
}

/// Fills `effective` of every entry without a certificate from its nearest ancestor,
/// visiting each entry a bounded number of times.
fn inherit(entries: &mut [Entry], parents: &[u32]) -> Result<()> {
    let mut done: Vec<bool> = entries
        .iter()
        .zip(parents)
        .map(|(e, &p)| e.effective != NONE || p == NONE)
        .collect();
    let mut path = Vec::new();
    for id in 0..entries.len() {
        path.clear();
        let mut current = id;
        while !done[current] {
            path.push(current);
            if path.len() > entries.len() {
                return Err(EdgeError::Tree("the domain tree has a cycle".into()));
            }
            current = parents[current] as usize;
        }
        let effective = entries[current].effective;
        for &on_path in &path {
            entries[on_path].effective = effective;
            done[on_path] = true;
        }
    }
    Ok(())
}
