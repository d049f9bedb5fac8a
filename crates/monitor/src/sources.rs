//! Where the server's inventory comes from: every certificate it manages, once each,
//! judged against `[monitor] warn_days` ([`InventorySources::collect`]). `GET /api/status`,
//! `GET /metrics` and the expiry watcher all read it through here.
//!
//! Sources, in order (the first to add a certificate names its user):
//! 1. each domain's certificate and the chain stored with it (`domain NAME`), handed in
//!    by the domains' owner through [`DomainCertificates`];
//! 2. each listener's certdir chain (`certdir ROLE`), from the snapshot handshakes use;
//! 3. the installation's default certificate (`default`), from the same snapshot;
//! 4. the certificates of the platform models the configuration names (`[[platform]]`):
//!    each service's certificate and chain as the last apply issued or imported it
//!    (`STATE/certs/SERVICE.crt`), so the internal CA and every service certificate
//!    written by plan and apply are watched (`platform NAME service SERVICE`), and the
//!    CA certificates each service trusts by file (`[[service.trust]]`, read as plan
//!    reads them, `CRYPT:` passwords opened with the server's master key), which
//!    certfleet did not issue but writes into truststores
//!    (`platform NAME service SERVICE trust FILE`);
//! 5. the chains `certfleet scan` saw on endpoints and recorded in the store under
//!    `scans/…` (`scan TARGET`), so that deployed certificates nobody manages here are
//!    watched too.
//!
//! Another source is one more step in [`InventorySources::collect`] that hands its
//! chains (DER, leaf first) to [`InventoryBuilder::add_held_chain`] with a
//! [`Holder`] of its own.

use crate::holder::Holder;
use crate::inventory::{Inventory, InventoryBuilder};
use crate::scan::record::{scans_prefix, ScanRecord};
use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::hub::CertificateHub;
use certfleet_edge::resolver::CertdirState;
use certfleet_pki::certs::parse_certificates;
use certfleet_platform::paths::Layout;
use certfleet_platform::trust_files::Reader;
use certfleet_secrets::MasterKey;
use certfleet_store::Storage;
use rustls_pki_types::CertificateDer;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use time::OffsetDateTime;

/// The domains' certificates, from whoever owns the domain tree.
pub trait DomainCertificates: Send + Sync {
    /// Each domain's served certificate with its name, read consistently (a change
    /// being committed is seen whole or not at all).
    fn domain_certificates(
        &self,
    ) -> impl Future<Output = Vec<(String, Arc<ServedCertificate>)>> + Send;
}

/// A platform model the configuration names (`[[platform]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSource {
    /// The model's `[platform] name`.
    pub name: String,
    /// The model file.
    pub model: PathBuf,
    /// The directory every output is under (`--root`), when set.
    pub root: Option<PathBuf>,
}

/// Everything the inventory is collected from.
pub struct InventorySources<'a, D> {
    /// `[monitor] warn_days`.
    pub warn_days: u32,
    /// Source 1: the domains.
    pub domains: &'a D,
    /// Sources 2 and 3: the certificates served, read from its current snapshot.
    pub hub: &'a CertificateHub,
    /// The listeners' roles, in the configuration's order (their certdirs).
    pub roles: Vec<String>,
    /// Source 4: the platform models.
    pub platforms: Vec<PlatformSource>,
    /// The master key that opens `CRYPT:` passwords of the models' trust files.
    pub master_key: Option<&'a MasterKey>,
    /// Source 5: the store with the scan records.
    pub store: &'a dyn Storage,
}

impl<D: DomainCertificates> InventorySources<'_, D> {
    /// The inventory as of now.
    pub async fn collect(&self) -> Inventory {
        let builder = InventoryBuilder::new(OffsetDateTime::now_utc(), self.warn_days);
        let mut builder = self.add_domains(builder).await;
        self.add_certdirs_and_default(&mut builder);
        self.add_platforms(&mut builder);
        self.add_scanned(&mut builder).await;
        builder.finish()
    }

    /// Source 1: each domain's certificate with its chain; described after the domains'
    /// owner let go of them, so edits do not wait for the parsing, and on a blocking
    /// thread: with many domains the parsing takes long enough (about 5 µs a chain) to
    /// hold up every handshake and request of the runtime thread it would run on.
    async fn add_domains(&self, mut builder: InventoryBuilder) -> InventoryBuilder {
        let domains = self.domains.domain_certificates().await;
        let described = tokio::task::spawn_blocking(move || {
            for (name, certificate) in &domains {
                builder.add_held_chain(ders(certificate.chain()), &Holder::domain(name));
            }
            builder
        });
        match described.await {
            Ok(builder) => builder,
            // Only a panic of the description or the runtime's shutdown ends the task
            // without an answer; the panic is passed on as if it had happened here.
            Err(err) => std::panic::resume_unwind(err.into_panic()),
        }
    }

    /// Sources 2 and 3: each listener's loaded certdir, then the default certificate,
    /// from the snapshot handshakes use.
    fn add_certdirs_and_default(&self, builder: &mut InventoryBuilder) {
        let snapshot = self.hub.snapshot();
        for role in &self.roles {
            if let Some(CertdirState::Loaded(served)) = snapshot.certdir(role) {
                builder.add_held_chain(ders(served.chain()), &Holder::certdir(role));
            }
        }
        builder.add_held_chain(
            ders(snapshot.default_certificate().chain()),
            &Holder::default_certificate(),
        );
    }

    /// Source 4: each platform's service certificates, from its state directory. A
    /// service not issued yet has no file and is skipped; a model that no longer reads
    /// is logged and skipped (its page and `GET /api/platforms/NAME` say why).
    fn add_platforms(&self, builder: &mut InventoryBuilder) {
        let Ok(cwd) = std::env::current_dir() else {
            return;
        };
        for source in &self.platforms {
            let platform = match certfleet_platform::engine::load_model(&source.model) {
                Ok(platform) => platform,
                Err(err) => {
                    tracing::warn!("inventory: platform {} left out: {err}", source.name);
                    continue;
                }
            };
            let layout = Layout::new(&source.model, source.root.as_deref(), &platform.name, &cwd);
            for service in &platform.services {
                let Ok(pem) = std::fs::read(layout.cert_file(&service.name)) else {
                    continue;
                };
                let Ok(chain) = parse_certificates(&pem) else {
                    builder.add_chain([&[][..]], &service.name, None); // counted as unreadable
                    continue;
                };
                builder.add_held_chain(
                    ders(&chain),
                    &Holder::platform_service(&platform.name, &service.name),
                );
            }
            self.add_trust_files(builder, &platform, &layout, &source.model);
        }
    }

    /// Source 4, continued: the certificates each service of `platform` trusts by file.
    /// A file that does not read is logged and left out (plan names it with its line).
    fn add_trust_files(
        &self,
        builder: &mut InventoryBuilder,
        platform: &certfleet_platform::spec::Platform,
        layout: &Layout,
        model: &std::path::Path,
    ) {
        let model_file = model.display().to_string();
        let reader = Reader {
            model_file: &model_file,
            layout,
            master_key: self.master_key,
            now: OffsetDateTime::now_utc(),
        };
        for service in &platform.services {
            for listed in &service.trust_files {
                match reader.read(listed) {
                    Ok(found) => {
                        let holder =
                            Holder::platform_trust(&platform.name, &service.name, &found.file);
                        for anchor in &found.anchors {
                            builder.add_held_anchor(&anchor.der, &holder);
                        }
                    }
                    Err(err) => tracing::warn!(
                        "inventory: a trust file of platform {} left out: {err}",
                        platform.name
                    ),
                }
            }
        }
    }

    /// Source 5: the latest chain recorded for each scanned endpoint. A store that
    /// cannot be read loses only this source (the managed certificates are still
    /// reported), and says so in the log.
    async fn add_scanned(&self, builder: &mut InventoryBuilder) {
        let entries = match scans_prefix() {
            Ok(prefix) => self.store.list(&prefix).await,
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
            builder.add_held_chain(
                chain.iter().map(Vec::as_slice),
                &Holder::scan_target(&record.target),
            );
        }
    }
}

/// The DER bytes of a chain.
fn ders<'c>(chain: &'c [CertificateDer<'static>]) -> impl Iterator<Item = &'c [u8]> {
    chain.iter().map(|der| der.as_ref())
}
