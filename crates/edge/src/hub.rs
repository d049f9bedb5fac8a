//! The live certificate state of one edge: the current [`Resolver`] snapshot behind an
//! `ArcSwap`, the alert sink, and the per-role rustls resolvers handed to listeners.
//!
//! Readers (handshakes, `domain resolve`) call `load`, which takes no lock. Writers build
//! the next snapshot off to the side and swap it in with `rcu`, so concurrent changes to
//! different parts (the tree, one role's certdir, the default) never undo each other.
//! New handshakes see a change as soon as the swap returns; handshakes already past
//! certificate selection, and open connections, keep what they had.

use crate::alerts::{AlertEvent, AlertKind, Alerts};
use crate::certificate::{now_unix, ServedCertificate};
use crate::error::Result;
use crate::resolver::{CertdirState, DomainIndex, Resolution, Resolver};
use crate::sni::SniCertResolver;
use crate::tree::DomainTree;
use arc_swap::ArcSwap;
use std::sync::Arc;

/// The edge's certificates: snapshot, changes and alerts.
#[derive(Debug)]
pub struct CertificateHub {
    current: ArcSwap<Resolver>,
    alerts: Alerts,
}

impl CertificateHub {
    /// A hub with no domains and no certdir, serving `default` to everyone.
    pub fn new(default: ServedCertificate) -> Self {
        Self::with_alerts(default, Alerts::default())
    }

    /// As [`CertificateHub::new`], with an alert sink of one's own sizing.
    pub fn with_alerts(default: ServedCertificate, alerts: Alerts) -> Self {
        let empty = Resolver::new(Arc::new(DomainIndex::empty()), Arc::new(default));
        CertificateHub {
            current: ArcSwap::from_pointee(empty),
            alerts,
        }
    }

    /// The current snapshot (a cheap reference-count increment).
    pub fn snapshot(&self) -> Arc<Resolver> {
        self.current.load_full()
    }

    /// Lock-free access for the handshake path.
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Resolver>> {
        self.current.load()
    }

    /// Which certificate a handshake for `sni` on a `role` listener gets now, and why.
    pub fn resolve(&self, sni: Option<&str>, role: &str) -> Resolution {
        self.current.load().resolve(sni, role)
    }

    /// Indexes `tree` and swaps it in.
    pub fn set_tree(&self, tree: &DomainTree) -> Result<()> {
        let index = Arc::new(DomainIndex::build(tree)?);
        self.set_index(index);
        Ok(())
    }

    /// Serves `tree`, which is the tree served now with `applied` applied: the index is
    /// patched for the changed domains and their branches (rebuilt whole when patches
    /// have left it with more unused entries than domains). Callers serialise changes
    /// (the domain service's tree lock), as with [`CertificateHub::set_tree`].
    pub fn apply_changes(&self, tree: &DomainTree, applied: &crate::tree::Applied) -> Result<()> {
        let current = self.current.load_full();
        let patched = current.index().patched(tree, applied)?;
        let index = if patched.wants_rebuild() {
            DomainIndex::build(tree)?
        } else {
            patched
        };
        self.set_index(Arc::new(index));
        Ok(())
    }

    /// Swaps in an already built index (built off the handshake path by the caller).
    pub fn set_index(&self, index: Arc<DomainIndex>) {
        self.current
            .rcu(|current| Arc::new(current.with_index(Arc::clone(&index))));
    }

    /// Sets (`Some`) or unsets (`None`) a role's certdir.
    pub fn set_certdir(&self, role: &str, state: Option<CertdirState>) {
        self.current
            .rcu(|current| Arc::new(current.with_certdir(role, state.clone())));
    }

    /// Replaces the default certificate.
    pub fn set_default(&self, default: ServedCertificate) {
        let default = Arc::new(default);
        self.current
            .rcu(|current| Arc::new(current.with_default(Arc::clone(&default))));
    }

    /// Records that a role's certdir failed to (re)load. A certificate loaded earlier
    /// stays served; a certdir that never loaded is marked failed, so handshakes fall
    /// through to the default. Raises an alert either way.
    pub fn certdir_failed(&self, role: &str, error: &str) {
        let failed: Arc<str> = Arc::from(error);
        let mut kept = None;
        self.current.rcu(|current| match current.certdir(role) {
            Some(CertdirState::Loaded(cert)) => {
                kept = Some(cert.summary().sha1_thumbprint.clone());
                Arc::clone(current)
            }
            _ => {
                kept = None;
                Arc::new(current.with_certdir(role, Some(CertdirState::Failed(failed.clone()))))
            }
        });
        let outcome = match &kept {
            Some(thumbprint) => format!("the previous certificate {thumbprint} stays served"),
            None => "handshakes that reach the certdir get the default certificate".to_owned(),
        };
        self.alerts.record(AlertEvent {
            kind: AlertKind::CertdirReloadFailed,
            at_unix: now_unix(),
            role: role.to_owned(),
            sni: None,
            domain: None,
            sha1_thumbprint: kept.unwrap_or_default(),
            message: format!("the certdir of role {role} did not load: {error}; {outcome}"),
        });
    }

    /// The alert sink (counters and queued events).
    pub fn alerts(&self) -> &Alerts {
        &self.alerts
    }

    /// A rustls certificate resolver for listeners of `role`.
    pub fn cert_resolver(self: &Arc<Self>, role: &str) -> Arc<SniCertResolver> {
        Arc::new(SniCertResolver::new(Arc::clone(self), role))
    }

    /// As [`CertificateHub::cert_resolver`], also answering TLS-ALPN-01 validation
    /// handshakes from `challenges`.
    pub fn cert_resolver_with_challenges(
        self: &Arc<Self>,
        role: &str,
        challenges: Arc<dyn crate::sni::ChallengeCertificates>,
    ) -> Arc<SniCertResolver> {
        Arc::new(SniCertResolver::new(Arc::clone(self), role).with_challenges(challenges))
    }
}
