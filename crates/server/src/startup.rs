//! Start-up: configuration, data directory, master key, store, default certificate,
//! admin token, the domain tree into the certificate hub, and the certdir watchers.
//!
//! Files written into the data directory (all mode 0600, the directory 0700):
//! `default.pem` (the installation's default certificate, generated on first start) and
//! `admin.token` (32 random bytes, hex), both reused on every later start. These and
//! `master.key` are refused when their group or others may reach them (sshd-like).

use super::domain_service::DomainService;
use super::state::AppState;
use anyhow::{bail, Context, Result};
use certfleet_acme::account::AccountBook;
use certfleet_acme::challenges::Challenges;
use certfleet_acme::renewal::AcmeService;
use certfleet_config::{refuse_open_secret_file, ServerConfig, StoreBackend};
use certfleet_edge::certdir::watch::DEFAULT_POLL_INTERVAL;
use certfleet_edge::certdir::{Certdir, CertdirWatcher};
use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::default_cert::generate_default_certificate;
use certfleet_edge::hub::CertificateHub;
use certfleet_edge::repository::DomainRepository;
use certfleet_monitor::alerts::AlertBoard;
use certfleet_monitor::watcher::MonitorShared;
use certfleet_secrets::{ensure_private_dir, write_private_file, MasterKey, MASTER_KEY_FILE};
use certfleet_store::embedded::EmbeddedStore;
use certfleet_store::Storage;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

/// The default certificate's file in the data directory.
pub const DEFAULT_CERT_FILE: &str = "default.pem";
/// The admin token's file in the data directory.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";
/// The embedded store's file in the data directory.
pub const STORE_FILE: &str = "store.redb";

/// Everything start-up built: the shared state and what must live as long as the server.
pub struct Started {
    /// The state shared by listeners and the admin API.
    pub state: Arc<AppState>,
    /// One watcher per listener with a certdir; dropping one stops its watch.
    pub watchers: Vec<CertdirWatcher>,
}

/// Builds the server's state from a validated configuration.
pub async fn start(config: ServerConfig) -> Result<Started> {
    let data_dir = config.data_dir.clone();
    ensure_private_dir(&data_dir)
        .with_context(|| format!("data directory {}", data_dir.display()))?;
    for secret in [MASTER_KEY_FILE, DEFAULT_CERT_FILE, ADMIN_TOKEN_FILE] {
        refuse_open_secret_file(&data_dir.join(secret))?;
    }
    let master_key = Arc::new(
        MasterKey::load_or_create(&data_dir)
            .with_context(|| format!("master key in {}", data_dir.display()))?,
    );
    let store = open_store(&config.store, &data_dir).await?;

    let default = load_or_create_default_certificate(&data_dir)?;
    let admin_token = load_or_create_admin_token(&data_dir)?;

    let hub = Arc::new(CertificateHub::new(default));
    let domains = DomainService::load(
        DomainRepository::new(Arc::clone(&store), Arc::clone(&master_key)),
        Arc::clone(&hub),
    )
    .await?;

    let mut watchers = Vec::new();
    for listener in &config.listeners {
        let Some(dir) = &listener.certdir else {
            continue;
        };
        let certdir = Certdir::new(dir);
        if let Some(notice) = certdir.key_notice() {
            tracing::warn!("certdir of role {}: {notice}", listener.role);
        }
        // The watcher loads the files once now (a failure is an alert, and the default
        // certificate is served meanwhile), then keeps them in step.
        let watcher = CertdirWatcher::start(
            Arc::clone(&hub),
            &listener.role,
            certdir,
            DEFAULT_POLL_INTERVAL,
        )
        .with_context(|| format!("starting the certdir watcher of role {}", listener.role))?;
        if hub.snapshot().certdir(&listener.role).is_none() {
            tracing::warn!(
                "the certdir {} of role {} did not load; its handshakes get the default certificate until it does",
                dir.display(),
                listener.role
            );
        }
        watchers.push(watcher);
    }

    let challenges = Arc::new(Challenges::new(Arc::clone(&store)));
    let accounts = AccountBook::new(
        Arc::clone(&store),
        Arc::clone(&master_key),
        config.acme_directory.clone(),
        config.acme_ca_bundle.clone(),
    )
    .context("[acme]")?;
    let state = Arc::new(AppState {
        config,
        store,
        master_key,
        hub,
        domains,
        admin_token,
        challenges,
        acme: Arc::new(AcmeService::new(accounts)),
        alerts: Arc::new(AlertBoard::default()),
        monitor: Arc::new(MonitorShared::default()),
        edge: Arc::new(certfleet_monitor::edge_metrics::EdgeCounters::default()),
        platform_work: Mutex::new(()),
    });
    Ok(Started { state, watchers })
}

async fn open_store(backend: &StoreBackend, data_dir: &Path) -> Result<Arc<dyn Storage>> {
    match backend {
        StoreBackend::Embedded => {
            let path = data_dir.join(STORE_FILE);
            let store = EmbeddedStore::open(&path)
                .await
                .with_context(|| format!("opening the embedded store {}", path.display()))?;
            Ok(Arc::new(store))
        }
        StoreBackend::Etcd(endpoints) => open_etcd(endpoints).await,
    }
}

#[cfg(feature = "etcd")]
async fn open_etcd(endpoints: &[String]) -> Result<Arc<dyn Storage>> {
    use certfleet_store::etcd::{EtcdOptions, EtcdStore};
    let store = EtcdStore::connect(endpoints, EtcdOptions::default())
        .await
        .with_context(|| format!("connecting to etcd at {}", endpoints.join(", ")))?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "etcd"))]
async fn open_etcd(_endpoints: &[String]) -> Result<Arc<dyn Storage>> {
    bail!(
        "[store] backend = \"etcd\": this certfleet was built without etcd support; rebuild with `--features etcd` or use backend = \"embedded\""
    )
}

/// Reads `DATA_DIR/default.pem`, generating it first when it does not exist.
pub fn load_or_create_default_certificate(data_dir: &Path) -> Result<ServedCertificate> {
    let path = data_dir.join(DEFAULT_CERT_FILE);
    if !path.exists() {
        let pem = generate_default_certificate().context("generating the default certificate")?;
        // First writer wins: a concurrent start leaves one file, read back below.
        write_private_file(&path, pem.as_bytes(), false)
            .with_context(|| format!("writing {}", path.display()))?;
        tracing::info!("generated the default certificate {}", path.display());
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    );
    ServedCertificate::from_pem(&text).with_context(|| {
        format!(
            "{}: not a usable certificate; delete it to have a new one generated",
            path.display()
        )
    })
}

/// Reads `DATA_DIR/admin.token`, creating it first (32 random bytes, hex) when missing.
pub fn load_or_create_admin_token(data_dir: &Path) -> Result<Zeroizing<String>> {
    let path: PathBuf = data_dir.join(ADMIN_TOKEN_FILE);
    if !path.exists() {
        let mut bytes = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(bytes.as_mut())
            .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
        let mut token = Zeroizing::new(String::with_capacity(64));
        for byte in bytes.iter() {
            // Writing into a String cannot fail.
            let _ = write!(token, "{byte:02x}");
        }
        token.push('\n');
        write_private_file(&path, token.as_bytes(), false)
            .with_context(|| format!("writing {}", path.display()))?;
        tracing::info!("wrote the admin token to {}", path.display());
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    );
    let token = text.trim();
    if token.is_empty() {
        bail!(
            "{}: empty; delete it to have a new token generated",
            path.display()
        );
    }
    Ok(Zeroizing::new(token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_certificate_and_token_are_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_default_certificate(dir.path()).unwrap();
        let again = load_or_create_default_certificate(dir.path()).unwrap();
        assert_eq!(
            first.summary().sha1_thumbprint,
            again.summary().sha1_thumbprint
        );
        let token = load_or_create_admin_token(dir.path()).unwrap();
        assert_eq!(token.len(), 64);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(*token, *load_or_create_admin_token(dir.path()).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for file in [DEFAULT_CERT_FILE, ADMIN_TOKEN_FILE] {
                let mode = std::fs::metadata(dir.path().join(file))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{file}");
            }
        }
    }
}
