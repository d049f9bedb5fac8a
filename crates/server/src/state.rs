//! What every part of a running server shares: the configuration, the store, the master
//! key, the certificate hub the handshakes read, and the domain tree the admin side edits.

use super::domain_service::DomainService;
use certfleet_acme::challenges::Challenges;
use certfleet_acme::renewal::AcmeService;
use certfleet_config::ServerConfig;
use certfleet_edge::hub::CertificateHub;
use certfleet_monitor::alerts::AlertBoard;
use certfleet_monitor::edge_metrics::EdgeCounters;
use certfleet_monitor::watcher::MonitorShared;
use certfleet_secrets::MasterKey;
use certfleet_store::Storage;
use std::sync::Arc;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

/// The server's shared state. Handshakes only touch `hub` (lock-free); domain changes go
/// through `domains` (one writer at a time), which persists them and swaps them into
/// `hub`.
pub struct AppState {
    /// The validated configuration.
    pub config: ServerConfig,
    /// The store (embedded or etcd).
    pub store: Arc<dyn Storage>,
    /// Seals private keys and opens `CRYPT:` values.
    pub master_key: Arc<MasterKey>,
    /// The snapshot handshakes select certificates from.
    pub hub: Arc<CertificateHub>,
    /// The domain tree: every change and consistent read goes through it.
    pub domains: DomainService,
    /// The admin API's bearer token (also in `DATA_DIR/admin.token`, mode 0600).
    pub admin_token: Zeroizing<String>,
    /// Pending ACME challenge answers (HTTP-01 and TLS-ALPN-01).
    pub challenges: Arc<Challenges>,
    /// Automatic issuance and renewal.
    pub acme: Arc<AcmeService>,
    /// What administrators must know about, logged and kept for the API.
    pub alerts: Arc<AlertBoard>,
    /// The metrics registry and the expiry watcher's counters.
    pub monitor: Arc<MonitorShared>,
    /// Every listener's handshake and request totals, for `GET /metrics`.
    pub edge: Arc<EdgeCounters>,
    /// Held while a platform model is planned or applied through the API: one at a time.
    pub platform_work: Mutex<()>,
}

impl AppState {
    /// The role `domain resolve` uses when none is given: the first listener's.
    pub fn default_role(&self) -> &str {
        self.config
            .listeners
            .first()
            .map_or("default", |listener| listener.role.as_str())
    }
}
