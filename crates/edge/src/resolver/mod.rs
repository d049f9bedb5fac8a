//! SNI certificate selection over an immutable snapshot.
//!
//! A [`Resolver`] holds a [`DomainIndex`], the certdir of each listener role and the
//! installation's default certificate. [`Resolver::select`] is the whole rule, and both
//! the handshake ([`crate::sni`]) and `domain resolve` ([`Resolver::resolve`]) call it:
//!
//! 1. with an SNI name: (a) a domain with exactly that name serves its own certificate,
//!    else the nearest ancestor's; (b) with no such domain, the first of its parent names
//!    (leftmost label dropped, one at a time) that is a domain, and the master domain
//!    last in any case, starts the walk of (a). A walk that finds no certificate ends the
//!    SNI lookup;
//! 2. the role's certdir, if set and loaded;
//! 3. the default certificate.
//!
//! `select` takes no lock, does no I/O and does not allocate: the SNI is lower-cased into
//! a stack buffer, names are looked up in a hash table, the effective certificate of each
//! domain was computed when the snapshot was built, and the result borrows from the
//! snapshot. The one exception is the first handshake that needs a certificate read from
//! the store: it reads that certificate's private key, once (see
//! `crate::certificate::ServedCertificate::from_stored`). Reasons are rendered only by
//! [`Resolver::resolve`].

mod explain;
mod index;
mod patch;

pub use explain::Resolution;
pub use index::DomainIndex;

use index::Entry;

use crate::certificate::ServedCertificate;
use crate::names::{normalise_sni, parent_names, MAX_NAME_LEN};
use rustls::sign::CertifiedKey;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a handshake's certificate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A domain of the tree.
    Domain,
    /// The listener role's certdir (step 2).
    Certdir,
    /// The installation's default certificate (step 3).
    Default,
}

/// A role's certdir as the snapshot knows it.
#[derive(Debug, Clone)]
pub enum CertdirState {
    /// `server.key` and `server.crt` loaded (the last good load, after a failed reload).
    Loaded(Arc<ServedCertificate>),
    /// Set, but it has never loaded; the reason, for `domain resolve`.
    Failed(Arc<str>),
}

/// Which domain started the SNI walk, and how it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// The client sent no SNI name (or one that cannot name a domain).
    NoSni,
    /// The name is an IP address, which SNI cannot carry.
    IpAddress,
    /// A domain has exactly the SNI name (1a).
    Exact(Entry),
    /// The first parent name of the SNI that is a domain (1b).
    ParentName(Entry),
    /// No parent name is a domain; the master, tried last (1b).
    Master(Entry),
    /// No domain matched and the tree has no master.
    NoMaster,
}

/// How the fallback went when the SNI lookup served nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fallback<'r> {
    /// A domain's certificate was served; no fallback.
    None,
    /// The role's certdir was served.
    Certdir,
    /// The role has no certdir.
    NotSet,
    /// The role's certdir is set but never loaded.
    Failed(&'r str),
}

/// The outcome of [`Resolver::select`], borrowed from the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'r> {
    /// Where the certificate came from.
    pub source: Source,
    /// The certificate to serve.
    pub certificate: &'r Arc<ServedCertificate>,
    /// Its rustls key and chain (what the handshake returns); `None` when the stored
    /// key of a domain's certificate could not be loaded (the handshake is refused).
    pub key: Option<&'r Arc<CertifiedKey>>,
    /// The served certificate's validity has ended.
    pub expired: bool,
    /// The served certificate does not cover the SNI name (false without SNI).
    pub name_mismatch: bool,
    pub(crate) start: Start,
    pub(crate) owner: Option<Entry>,
    pub(crate) fallback: Fallback<'r>,
}

/// An immutable snapshot: the domain index, each role's certdir and the default.
#[derive(Debug, Clone)]
pub struct Resolver {
    index: Arc<DomainIndex>,
    certdirs: HashMap<Box<str>, CertdirState>,
    default: Arc<ServedCertificate>,
}

impl Resolver {
    /// A snapshot with no certdir set.
    pub fn new(index: Arc<DomainIndex>, default: Arc<ServedCertificate>) -> Self {
        Resolver {
            index,
            certdirs: HashMap::new(),
            default,
        }
    }

    /// This snapshot with another domain index (certdirs and default kept).
    pub fn with_index(&self, index: Arc<DomainIndex>) -> Self {
        Resolver {
            index,
            ..self.clone()
        }
    }

    /// This snapshot with a role's certdir set (`Some`) or unset (`None`).
    pub fn with_certdir(&self, role: &str, state: Option<CertdirState>) -> Self {
        let mut next = self.clone();
        match state {
            Some(state) => next.certdirs.insert(role.into(), state),
            None => next.certdirs.remove(role),
        };
        next
    }

    /// This snapshot with another default certificate.
    pub fn with_default(&self, default: Arc<ServedCertificate>) -> Self {
        Resolver {
            default,
            ..self.clone()
        }
    }

    /// The domain index.
    pub fn index(&self) -> &Arc<DomainIndex> {
        &self.index
    }

    /// A role's certdir state, when one is set.
    pub fn certdir(&self, role: &str) -> Option<&CertdirState> {
        self.certdirs.get(role)
    }

    /// The default certificate.
    pub fn default_certificate(&self) -> &Arc<ServedCertificate> {
        &self.default
    }

    /// Chooses the certificate for a handshake with `sni` on a listener of `role`, at
    /// `now_unix` (for the expiry flag). No lock, no I/O, no allocation.
    pub fn select(&self, sni: Option<&str>, role: &str, now_unix: i64) -> Selection<'_> {
        let mut buf = [0u8; MAX_NAME_LEN];
        let name = sni.and_then(|s| normalise_sni(s, &mut buf));
        let start = match name {
            None => Start::NoSni,
            Some(name) if is_ip_literal(name) => Start::IpAddress,
            Some(name) => self.start_of(name),
        };
        let (owner, exact) = match start {
            Start::Exact(entry) => (self.index.effective(entry), Some(entry)),
            Start::ParentName(entry) | Start::Master(entry) => (self.index.effective(entry), None),
            Start::NoSni | Start::IpAddress | Start::NoMaster => (None, None),
        };
        if let Some(slot) = owner {
            // The common case, kept to the slot's inline fields: an exact match knows
            // from the index whether its certificate covers the name.
            let name_mismatch = match (exact, name) {
                (Some(entry), _) => !entry.own_name_covered(),
                (None, Some(name)) => !slot.cert.covers(name),
                (None, None) => false,
            };
            return Selection {
                source: Source::Domain,
                certificate: &slot.cert,
                key: slot.cert.certified_key(),
                expired: now_unix > slot.not_after_unix,
                name_mismatch,
                start,
                owner: Some(slot.owner),
                fallback: Fallback::None,
            };
        }
        let (source, certificate, fallback) = match self.certdirs.get(role) {
            Some(CertdirState::Loaded(cert)) => (Source::Certdir, cert, Fallback::Certdir),
            Some(CertdirState::Failed(why)) => {
                (Source::Default, &self.default, Fallback::Failed(why))
            }
            None => (Source::Default, &self.default, Fallback::NotSet),
        };
        let name_mismatch = match (start, name) {
            (Start::NoSni | Start::IpAddress, _) | (_, None) => false,
            (_, Some(name)) => !certificate.covers(name),
        };
        Selection {
            source,
            certificate,
            key: certificate.certified_key(),
            expired: certificate.is_expired_at(now_unix),
            name_mismatch,
            start,
            owner: None,
            fallback,
        }
    }

    /// Step 1's starting domain for a normalised name.
    fn start_of(&self, name: &str) -> Start {
        if let Some(entry) = self.index.find(name) {
            return Start::Exact(entry);
        }
        if let Some(entry) = parent_names(name).find_map(|parent| self.index.find(parent)) {
            return Start::ParentName(entry);
        }
        match self.index.master() {
            Some(entry) => Start::Master(entry),
            None => Start::NoMaster,
        }
    }
}

/// An IPv4 or IPv6 literal (SNI cannot carry one, RFC 6066).
fn is_ip_literal(name: &str) -> bool {
    let first = name.as_bytes().first().copied().unwrap_or(b'x');
    (first.is_ascii_digit() || name.contains(':')) && name.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests;
