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

/// An immutable, hashed copy of a [`DomainTree`] for lookups in O(1) per name.
#[derive(Debug, Clone)]
pub struct DomainIndex {
    pub(super) arena: Vec<u8>,
    pub(super) table: HashTable<Entry>,
    pub(super) hasher: RandomState,
    pub(super) certs: Vec<CertSlot>,
    pub(super) master: Option<Entry>,
    /// Names and certificate slots left unused by patches (see `patch`).
    pub(super) stale: usize,
}

impl Default for DomainIndex {
    fn default() -> Self {
        DomainIndex {
            arena: Vec::new(),
            table: HashTable::new(),
            hasher: RandomState::new(),
            certs: Vec::new(),
            master: None,
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
        if u32::try_from(count).map_or(true, |n| n >= NONE) {
            return Err(EdgeError::Tree("more than 2 billion domains".into()));
        }
        let arena_len: usize = tree.iter().map(|d| d.name().len() + 1).sum();
        if u32::try_from(arena_len).is_err() {
            return Err(EdgeError::Tree("domain names exceed 4 GiB in total".into()));
        }
        let mut index = DomainIndex {
            arena: Vec::with_capacity(arena_len),
            table: HashTable::with_capacity(count),
            ..DomainIndex::default()
        };
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
        index.master = master.map(|i| entries[i]);
        for entry in entries {
            let hash = index.hasher.hash_one(index.name_bytes(entry));
            let (arena, hasher) = (&index.arena, &index.hasher);
            index
                .table
                .insert_unique(hash, entry, |e| hasher.hash_one(name_in(arena, e.name)));
        }
        Ok(index)
    }

    /// The domain of a name (already lower-cased).
    pub(crate) fn find(&self, name: &str) -> Option<Entry> {
        let hash = self.hasher.hash_one(name.as_bytes());
        self.table
            .find(hash, |e| self.name_bytes(*e) == name.as_bytes())
            .copied()
    }

    /// The name of a domain.
    pub(crate) fn name(&self, entry: Entry) -> &str {
        // Names were valid `str`s (ASCII) when copied in.
        std::str::from_utf8(self.name_bytes(entry)).unwrap_or_default()
    }

    pub(super) fn name_bytes(&self, entry: Entry) -> &[u8] {
        name_in(&self.arena, entry.name)
    }

    /// The certificate a domain serves (its own or inherited) and the domain carrying it.
    pub(crate) fn effective(&self, entry: Entry) -> Option<&CertSlot> {
        self.certs.get(entry.slot() as usize)
    }

    /// The master domain.
    pub(crate) fn master(&self) -> Option<Entry> {
        self.master
    }

    /// The number of domains.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when the index holds no domain.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The domain whose certificate a handshake naming `name` exactly gets (for the
    /// "effective certificate" column of listings).
    pub fn effective_domain(&self, name: &str) -> Option<&str> {
        let entry = self.find(&name.to_ascii_lowercase())?;
        self.effective(entry).map(|slot| self.name(slot.owner))
    }

    /// Approximate heap bytes held by the index itself (certificates not counted).
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.table.capacity() * (size_of::<Entry>() + 1)
            + self.certs.capacity() * size_of::<CertSlot>()
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
