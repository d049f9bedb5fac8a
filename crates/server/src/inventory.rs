//! The server's certificate inventory: every certificate it manages, once each, judged
//! against `[monitor] warn_days`. `GET /api/status`, `GET /metrics` and the
//! expiry watcher all read it from here.
//!
//! Sources, in order (the first to add a certificate names its user):
//! 1. each domain's certificate and the chain stored with it (`domain NAME`);
//! 2. each listener's certdir chain (`certdir ROLE`);
//! 3. the installation's default certificate (`default`);
//! 4. the certificates of the platform models the configuration names (`[[platform]]`):
//!    each service's certificate and chain as the last apply issued or imported it
//!    (`STATE/certs/SERVICE.crt`), so the internal CA and every service certificate
//!    written by plan and apply are watched (`platform NAME service SERVICE`);
//! 5. the chains `certfleet scan` saw on endpoints and recorded in the store under
//!    `scans/…` (`scan TARGET`), so that deployed certificates nobody manages here are
//!    watched too.
//!
//! Another source is one more function called from [`collect`] that hands its chains
//! (DER, leaf first) to [`InventoryBuilder::add_chain`] with a `used_by` of its own.

use super::state::AppState;
use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::resolver::CertdirState;
use certfleet_monitor::inventory::{Inventory, InventoryBuilder};
use certfleet_monitor::scan::record::{scans_prefix, ScanRecord};
use certfleet_pki::certs::parse_certificates;
use certfleet_platform::paths::Layout;
use rustls_pki_types::CertificateDer;
use std::sync::Arc;
use time::OffsetDateTime;

/// The inventory as of now.
pub async fn collect(state: &AppState) -> Inventory {
    let mut builder = InventoryBuilder::new(OffsetDateTime::now_utc(), state.config.warn_days);
    add_domains(state, &mut builder).await;
    add_certdirs_and_default(state, &mut builder);
    add_platforms(state, &mut builder);
    add_scanned(state, &mut builder).await;
    builder.finish()
}

/// The DER bytes of a chain.
fn ders<'c>(chain: &'c [CertificateDer<'static>]) -> impl Iterator<Item = &'c [u8]> {
    chain.iter().map(|der| der.as_ref())
}

/// Source 1: each domain's certificate with its chain, as the tree holds them under its
/// lock (a change being committed is seen whole or not at all); described after the lock
/// is released, so edits do not wait for the parsing.
async fn add_domains(state: &AppState, builder: &mut InventoryBuilder) {
    let served: Vec<(String, Arc<ServedCertificate>)> = state
        .domains
        .read(|tree| {
            tree.iter()
                .filter_map(|domain| {
                    let certificate = domain.certificate()?;
                    Some((domain.name().to_owned(), Arc::clone(certificate.served())))
                })
                .collect()
        })
        .await;
    for (name, certificate) in &served {
        builder.add_chain(
            ders(&certificate.certified_key().cert),
            &format!("domain {name}"),
            Some(name.as_str()),
        );
    }
}

/// Sources 2 and 3: each listener's loaded certdir, then the default certificate, from
/// the snapshot handshakes use.
fn add_certdirs_and_default(state: &AppState, builder: &mut InventoryBuilder) {
    let snapshot = state.hub.snapshot();
    for listener in &state.config.listeners {
        if let Some(CertdirState::Loaded(served)) = snapshot.certdir(&listener.role) {
            builder.add_chain(
                ders(&served.certified_key().cert),
                &format!("certdir {}", listener.role),
                None,
            );
        }
    }
    builder.add_chain(
        ders(&snapshot.default_certificate().certified_key().cert),
        "default",
        None,
    );
}

/// Source 4: each configured platform's service certificates, from its state directory.
/// A service not issued yet has no file and is skipped; a model that no longer reads is
/// logged and skipped (its page and `GET /api/platforms/NAME` say why).
fn add_platforms(state: &AppState, builder: &mut InventoryBuilder) {
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    for config in &state.config.platforms {
        let platform = match certfleet_platform::engine::load_model(&config.model) {
            Ok(platform) => platform,
            Err(err) => {
                tracing::warn!("inventory: platform {} left out: {err}", config.name);
                continue;
            }
        };
        let layout = Layout::new(&config.model, config.root.as_deref(), &platform.name, &cwd);
        for service in &platform.services {
            let Ok(pem) = std::fs::read(layout.cert_file(&service.name)) else {
                continue;
            };
            let Ok(chain) = parse_certificates(&pem) else {
                builder.add_chain([&[][..]], &service.name, None); // counted as unreadable
                continue;
            };
            builder.add_chain(
                ders(&chain),
                &format!("platform {} service {}", platform.name, service.name),
                None,
            );
        }
    }
}

/// Source 5: the latest chain recorded for each scanned endpoint. A store that cannot be
/// read loses only this source (the managed certificates are still reported), and says
/// so in the log.
async fn add_scanned(state: &AppState, builder: &mut InventoryBuilder) {
    let entries = match scans_prefix() {
        Ok(prefix) => state.store.list(&prefix).await,
        Err(err) => {
            tracing::error!("inventory: the scan records' key: {err}");
            return;
        }
    };
    let entries = match entries {
        Ok(entries) => entries,
        Err(err) => {
            tracing::error!(
                "inventory: scan records left out, the store could not list them: {err}"
            );
            return;
        }
    };
    for entry in entries {
        let Ok(record) = serde_json::from_slice::<ScanRecord>(&entry.value) else {
            continue; // GET /api/scans reports records that do not read
        };
        let chain = record.chain_ders();
        builder.add_chain(
            chain.iter().map(Vec::as_slice),
            &format!("scan {}", record.target),
            None,
        );
    }
}
