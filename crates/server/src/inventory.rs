//! The server's certificate inventory: the sources are certfleet-monitor's
//! ([`certfleet_monitor::sources`]: domains, certdirs, the default certificate, platform
//! models, scan records, in that order); here the server hands them its domain service,
//! its hub, its listeners' roles, its platforms, its store and its master key (for the
//! passwords of the platforms' trust files). `GET /api/status`,
//! `GET /metrics` and the expiry watcher all read it from [`collect`].

use super::domain_service::DomainService;
use super::state::AppState;
use certfleet_edge::certificate::ServedCertificate;
use certfleet_monitor::inventory::Inventory;
use certfleet_monitor::sources::{DomainCertificates, InventorySources, PlatformSource};
use std::sync::Arc;

impl DomainCertificates for DomainService {
    /// Each domain's certificate as the tree holds it under its lock; the chains are
    /// described after the lock is released.
    async fn domain_certificates(&self) -> Vec<(String, Arc<ServedCertificate>)> {
        self.read(|tree| {
            tree.iter()
                .filter_map(|domain| {
                    let certificate = domain.certificate()?;
                    Some((domain.name().to_owned(), Arc::clone(certificate.served())))
                })
                .collect()
        })
        .await
    }
}

/// The inventory as of now.
pub async fn collect(state: &AppState) -> Inventory {
    InventorySources {
        warn_days: state.config.warn_days,
        domains: &state.domains,
        hub: &state.hub,
        roles: state
            .config
            .listeners
            .iter()
            .map(|listener| listener.role.clone())
            .collect(),
        platforms: state
            .config
            .platforms
            .iter()
            .map(|platform| PlatformSource {
                name: platform.name.clone(),
                model: platform.model.clone(),
                root: platform.root.clone(),
            })
            .collect(),
        store: state.store.as_ref(),
        master_key: Some(state.master_key.as_ref()),
    }
    .collect()
    .await
}
