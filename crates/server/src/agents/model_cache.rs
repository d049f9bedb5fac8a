//! The configured platforms' models as the agent listener uses them: each model is read,
//! validated and its trust derived once, then kept until one of the files it came from
//! changes (the model, the internal CA's certificates, a rotation's record and new CA).
//! A thousand waiting agents thus cost one evaluation of the model per change, not one
//! per request.
//!
//! Each platform also has a wake-up channel: everything that may change a node's
//! assignment (a reloaded model, a certificate issued, a report, a rollout's turn, a
//! renewal coming due) bumps its platform's channel, and only that platform's waiting
//! assignment requests look again. [`watch_files`] notices edited files within
//! [`FILE_POLL`] even when no request asks.

use super::errors::AgentError;
use super::model::{self, PlatformView};
use super::stored_trust::StoredTrust;
use certfleet_api::agent::TrustedCertificate;
use certfleet_config::PlatformConfig;
use certfleet_pki::certs::to_pem;
use certfleet_platform::ca::anchor;
use certfleet_platform::ca_dir::CaPaths;
use certfleet_platform::paths::Layout;
use certfleet_platform::rotation::new_ca::{cross_file, next_dir};
use certfleet_platform::rotation::record::record_file;
use certfleet_platform::spec::IssuerKind;
use certfleet_platform::trust::{self, Anchors};
use certfleet_platform::trust_files;
use certfleet_secrets::MasterKey;
use rustls_pki_types::CertificateDer;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use tokio::sync::watch;

/// How often [`watch_files`] looks at the models' files.
pub const FILE_POLL: Duration = Duration::from_millis(250);

/// One platform's model, validated, with what every assignment of it shares.
pub struct Snapshot {
    /// The model.
    pub view: PlatformView,
    /// The internal CA's issuing chain (intermediate, then root) when it exists, or why
    /// it cannot be read.
    pub chain: Result<Option<Vec<CertificateDer<'static>>>, String>,
    /// What the peers of internal-CA services trust: the chain, or during a CA rotation
    /// the old and new CAs' as its phase wants.
    pub anchors: Result<Option<Vec<CertificateDer<'static>>>, String>,
    /// Per service, the certificates it trusts (the derived trust set), as far as the
    /// files tell: the anchors of self-signed and external-CA services come from the
    /// store ([`Snapshot::trust_now`]).
    pub trust: Arc<TrustMap>,
    /// The trust completed with the stored certificates' anchors.
    pub(super) stored: StoredTrust,
    /// The services' trust files (`[[service.trust]]`) as placed, watched like the model.
    trust_paths: Vec<PathBuf>,
    /// The server's master key, which opens a trust file's `CRYPT:` keystore password.
    master_key: Option<Arc<MasterKey>>,
}

/// Per service, the certificates it trusts.
pub type TrustMap = BTreeMap<String, Vec<TrustedCertificate>>;

impl Snapshot {
    /// The server's master key, when the cache was given one.
    pub(super) fn master_key(&self) -> Option<&MasterKey> {
        self.master_key.as_deref()
    }

    /// Reads and validates `config`'s model, its CA chain, and derives its trust.
    fn load(
        config: &PlatformConfig,
        master_key: Option<Arc<MasterKey>>,
    ) -> Result<Snapshot, AgentError> {
        let view = model::load(config)?;
        let chain = view.ca_chain();
        let anchors = view.ca_anchors();
        let trust = derive_trust(
            &view,
            anchors.as_ref().ok().and_then(Option::as_deref),
            &BTreeMap::new(),
            master_key.as_deref(),
        );
        let trust_paths = layout_of(&view).map_or_else(Vec::new, |layout| {
            view.platform
                .services
                .iter()
                .flat_map(|s| &s.trust_files)
                .filter_map(|listed| layout.place(&listed.file).ok())
                .collect()
        });
        Ok(Snapshot {
            view,
            chain,
            anchors,
            trust: Arc::new(trust),
            stored: StoredTrust::default(),
            trust_paths,
            master_key,
        })
    }
}

/// Every service's trusted certificates in `view`, with `chain` as the internal CA and
/// `stored` the anchors of self-signed and external-CA services with a stored
/// certificate; `master_key` opens trust files' `CRYPT:` passwords.
pub(super) fn derive_trust(
    view: &PlatformView,
    chain: Option<&[CertificateDer<'static>]>,
    stored: &BTreeMap<String, Anchors>,
    master_key: Option<&MasterKey>,
) -> TrustMap {
    let now = OffsetDateTime::now_utc();
    let platform = &view.platform;
    let anchors_of = |name: &str| -> Anchors {
        match platform.service(name).map(|s| s.issuer) {
            Some(IssuerKind::Internal) => match chain {
                Some(list) => Anchors::Known(list.iter().map(|c| anchor(c, now)).collect()),
                None => Anchors::Unknown("the internal CA does not exist yet".into()),
            },
            Some(IssuerKind::Acme) => Anchors::Public,
            Some(IssuerKind::SelfSigned | IssuerKind::External) => match stored.get(name) {
                Some(anchors) => anchors.clone(),
                None => Anchors::Unknown("its node has no certificate yet".into()),
            },
            None => Anchors::Unknown("not in the model".into()),
        }
    };
    let mut sets = trust::derive(platform, &anchors_of);
    add_trust_files(view, &mut sets, now, master_key);
    sets.into_iter()
        .map(|(service, set)| {
            let trusted = set
                .entries
                .iter()
                .map(|entry| TrustedCertificate {
                    pem: to_pem(&[CertificateDer::from(entry.anchor.der.clone())]),
                    subject: entry.anchor.subject.clone(),
                    sha1: entry.anchor.sha1.to_ascii_lowercase(),
                    because: entry.because.clone(),
                })
                .collect();
            (service, trusted)
        })
        .collect()
}

/// Adds the certificates each service trusts by file (`[[service.trust]]`), a keystore's
/// `CRYPT:` password opened with `master_key`; a file that does not read is left out
/// and logged (plan names it with its line).
fn add_trust_files(
    view: &PlatformView,
    sets: &mut BTreeMap<String, trust::TrustSet>,
    now: OffsetDateTime,
    master_key: Option<&MasterKey>,
) {
    let Some(layout) = layout_of(view) else {
        return;
    };
    let model_file = view.config.model.display().to_string();
    let reader = trust_files::Reader {
        model_file: &model_file,
        layout: &layout,
        master_key,
        now,
    };
    for service in &view.platform.services {
        let Some(set) = sets.get_mut(&service.name) else {
            continue;
        };
        for listed in &service.trust_files {
            match reader.read(listed) {
                Ok(found) => set.add_listed(&found.anchors, &found.why, &found.file),
                Err(err) => tracing::warn!(
                    "platform {}: a trust file of service {} left out of its assignment: {err}",
                    view.platform.name,
                    service.name
                ),
            }
        }
    }
}

/// Where `view`'s paths lead (its `[[platform]] root`, else the model's directory).
fn layout_of(view: &PlatformView) -> Option<Layout> {
    let cwd = std::env::current_dir().ok()?;
    Some(Layout::new(
        &view.config.model,
        view.config.root.as_deref(),
        &view.platform.name,
        &cwd,
    ))
}

/// What identifies one version of a file: its size, modification time and inode (a
/// file replaced by a rename has another inode); `None` when it is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp(Option<(u64, Option<SystemTime>, u64)>);

impl FileStamp {
    fn of(path: &Path) -> FileStamp {
        FileStamp(
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.len(), m.modified().ok(), m.ino())),
        )
    }
}

/// The stamps of a snapshot's files: the model, then the CA's certificates and the trust
/// files.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamps(Vec<FileStamp>);

impl Stamps {
    /// The stamps of `config`'s model and of `files`.
    fn of(config: &PlatformConfig, files: &[PathBuf]) -> Stamps {
        let mut stamps = vec![FileStamp::of(&config.model)];
        stamps.extend(files.iter().map(|file| FileStamp::of(file)));
        Stamps(stamps)
    }
}

/// The files besides the model that `snapshot` was read from: the rotation record, the
/// internal CA's certificates (and a rotation's new CA in `next/`), then the services'
/// trust files.
fn watched_files(snapshot: &Snapshot) -> Vec<PathBuf> {
    let mut files = vec![record_file(&snapshot.view.state_dir)];
    if let Some(dir) = &snapshot.view.ca_dir {
        for dir in [dir.clone(), next_dir(dir)] {
            let paths = CaPaths::new(&dir);
            files.push(paths.root_crt);
            files.push(paths.intermediate_crt);
        }
        files.push(cross_file(dir));
    }
    files.extend(snapshot.trust_paths.iter().cloned());
    files
}

/// A loaded snapshot (or the error loading it gave) and the stamps it was loaded at.
struct Loaded {
    stamps: Stamps,
    result: Result<Arc<Snapshot>, AgentError>,
}

impl Loaded {
    /// The files besides the model it was read from (none for a model that failed).
    fn watched(&self) -> Vec<PathBuf> {
        self.result
            .as_ref()
            .map_or_else(|_| Vec::new(), |snapshot| watched_files(snapshot))
    }
}

/// One configured platform.
struct Entry {
    config: PlatformConfig,
    loaded: Mutex<Option<Loaded>>,
    wake: watch::Sender<u64>,
    /// Bumped whenever a stored certificate of the platform may have changed.
    certs: AtomicU64,
}

impl Entry {
    fn wake(&self) {
        self.wake
            .send_modify(|count| *count = count.wrapping_add(1));
    }
}

/// The configured platforms' snapshots and wake-up channels.
pub struct ModelCache {
    entries: Vec<Entry>,
    master_key: Option<Arc<MasterKey>>,
}

impl ModelCache {
    /// A cache of `platforms`; nothing is read until asked for.
    pub fn new(platforms: &[PlatformConfig], master_key: Option<Arc<MasterKey>>) -> ModelCache {
        ModelCache {
            master_key,
            entries: platforms
                .iter()
                .map(|config| Entry {
                    config: config.clone(),
                    loaded: Mutex::new(None),
                    wake: watch::channel(0).0,
                    certs: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    fn entry(&self, platform: &str) -> Result<&Entry, AgentError> {
        self.entries
            .iter()
            .find(|entry| entry.config.name == platform)
            .ok_or_else(|| {
                AgentError::not_found(format!(
                    "platform {platform} is not configured on this server (no [[platform]] with that model)"
                ))
            })
    }

    /// The names of the configured platforms.
    pub fn platforms(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|entry| entry.config.name.as_str())
    }

    /// `platform`'s snapshot as its files stand now: the kept one while none of its
    /// files changed, else loaded afresh (which wakes the platform's waiting requests).
    /// A model that does not load gives its error until its file changes.
    pub fn snapshot(&self, platform: &str) -> Result<Arc<Snapshot>, AgentError> {
        let entry = self.entry(platform)?;
        // A panic while loading leaves nothing half-changed here: the guard's value is
        // replaced whole, so a poisoned lock is still sound to use.
        let mut loaded = entry.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(current) = loaded.as_ref() {
            if Stamps::of(&entry.config, &current.watched()) == current.stamps {
                return current.result.clone();
            }
        }
        // The stamps are taken before reading, so that a change during the read is seen
        // as a change next time.
        let previous = loaded.as_ref().map(Loaded::watched).unwrap_or_default();
        let before = Stamps::of(&entry.config, &previous);
        let result = Snapshot::load(&entry.config, self.master_key.clone()).map(Arc::new);
        let watched = result
            .as_ref()
            .map_or_else(|_| Vec::new(), |snapshot| watched_files(snapshot));
        let stamps = if watched == previous {
            before
        } else {
            // Files not known before the read (a new CA directory, new trust files) are
            // stamped after it.
            let mut after = Stamps::of(&entry.config, &watched);
            after.0[0] = before.0[0].clone();
            after
        };
        *loaded = Some(Loaded {
            stamps,
            result: result.clone(),
        });
        drop(loaded);
        entry.wake();
        result
    }

    /// A receiver that sees every later wake-up of `platform`.
    pub fn subscribe(&self, platform: &str) -> Result<watch::Receiver<u64>, AgentError> {
        Ok(self.entry(platform)?.wake.subscribe())
    }

    /// Notes that a stored certificate of `platform` may have changed (its peers' trust
    /// is derived again) and wakes its waiting assignment requests.
    pub fn certs_changed(&self, platform: &str) {
        if let Ok(entry) = self.entry(platform) {
            entry.certs.fetch_add(1, Ordering::SeqCst);
            entry.wake();
        }
    }

    /// How often `platform`'s stored certificates changed ([`ModelCache::certs_changed`]).
    pub fn certs_generation(&self, platform: &str) -> u64 {
        self.entry(platform)
            .map_or(0, |entry| entry.certs.load(Ordering::SeqCst))
    }

    /// Wakes `platform`'s waiting assignment requests (an unknown platform has none).
    pub fn wake(&self, platform: &str) {
        if let Ok(entry) = self.entry(platform) {
            entry.wake();
        }
    }

    /// Looks at every platform's files, reloading (and waking) those that changed.
    pub fn refresh(&self) {
        for entry in &self.entries {
            // An error is kept in the snapshot and answered to the requests.
            let _ = self.snapshot(&entry.config.name);
        }
    }
}

/// Every [`FILE_POLL`], reloads the models whose files changed, until `stopping` is set.
pub async fn watch_files(cache: &ModelCache, mut stopping: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(FILE_POLL) => cache.refresh(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::tests::{write_ca, MODEL};
    use super::*;
    use std::path::PathBuf;

    fn platform(dir: &Path) -> PlatformConfig {
        let model = dir.join("lab.toml");
        std::fs::write(&model, MODEL).unwrap();
        write_ca(&dir.join("ca"));
        PlatformConfig {
            name: "lab".into(),
            model,
            root: None,
            run_reloads: false,
        }
    }

    fn replace(path: &PathBuf, text: &str) {
        let next = path.with_extension("next");
        std::fs::write(&next, text).unwrap();
        std::fs::rename(&next, path).unwrap();
    }

    #[test]
    fn a_snapshot_is_kept_until_a_file_changes_and_then_wakes_the_platform() {
        let dir = tempfile::tempdir().unwrap();
        let config = platform(dir.path());
        let cache = ModelCache::new(std::slice::from_ref(&config), None);
        let first = cache.snapshot("lab").unwrap();
        assert!(first.view.has_node("n1"));
        assert_eq!(first.trust["db"].len(), 2, "the CA's root and intermediate");
        let mut wake = cache.subscribe("lab").unwrap();
        assert!(Arc::ptr_eq(&first, &cache.snapshot("lab").unwrap()));
        assert!(!wake.has_changed().unwrap(), "nothing was reloaded");

        replace(&config.model, &MODEL.replace("reload-web", "restart-web"));
        let edited = cache.snapshot("lab").unwrap();
        assert!(!Arc::ptr_eq(&first, &edited));
        assert_eq!(
            edited.view.platform.service("web").unwrap().hook.as_deref(),
            Some("restart-web")
        );
        assert!(wake.has_changed().unwrap());
        wake.mark_unchanged();

        // A new CA is seen too, with the trust derived from it.
        let before = edited.trust["db"].clone();
        // File times move in clock ticks of a few milliseconds: let one pass.
        std::thread::sleep(Duration::from_millis(50));
        write_ca(&dir.path().join("ca"));
        let rotated = cache.snapshot("lab").unwrap();
        assert_ne!(rotated.trust["db"], before);
        assert!(wake.has_changed().unwrap());
    }

    #[test]
    fn a_trust_file_of_the_model_is_in_its_services_trust_list() {
        let dir = tempfile::tempdir().unwrap();
        let config = platform(dir.path());
        let extra = certfleet_pki::authority::init_ca(
            "Elasticsearch HTTP CA",
            certfleet_pki::keys::KeyAlgorithm::EcdsaP256,
            30,
            None,
        )
        .unwrap();
        std::fs::write(dir.path().join("es-ca.pem"), to_pem(&[extra.root_cert])).unwrap();
        // The table belongs to the last service of the model, db.
        let with_trust = format!(
            "{MODEL}[[service.trust]]\nfile = \"es-ca.pem\"\nwhy = \"db calls Elasticsearch\"\n"
        );
        replace(&config.model, &with_trust);
        let cache = ModelCache::new(std::slice::from_ref(&config), None);
        let snapshot = cache.snapshot("lab").unwrap();
        let db = &snapshot.trust["db"];
        assert_eq!(
            db.len(),
            3,
            "the CA's root and intermediate, then the file's"
        );
        assert_eq!(db[2].subject, "CN=Elasticsearch HTTP CA");
        assert_eq!(db[2].because, ["db calls Elasticsearch"]);
        assert!(snapshot.trust["web"].is_empty(), "web trusts nobody");

        // The file replaced by another CA's certificate is read again at once.
        let next = certfleet_pki::authority::init_ca(
            "Elasticsearch HTTP CA 2",
            certfleet_pki::keys::KeyAlgorithm::EcdsaP256,
            30,
            None,
        )
        .unwrap();
        replace(&dir.path().join("es-ca.pem"), &to_pem(&[next.root_cert]));
        let again = cache.snapshot("lab").unwrap();
        assert!(!Arc::ptr_eq(&snapshot, &again));
        assert_eq!(again.trust["db"][2].subject, "CN=Elasticsearch HTTP CA 2");
    }

    #[test]
    fn a_trust_keystore_with_a_crypt_password_is_opened_with_the_servers_master_key() {
        use certfleet_formats::keystore::{Entry, KeystoreFormat, OpenedKeystore};
        let dir = tempfile::tempdir().unwrap();
        let config = platform(dir.path());
        let extra = certfleet_pki::authority::init_ca(
            "Configuration Server CA",
            certfleet_pki::keys::KeyAlgorithm::EcdsaP256,
            30,
            None,
        )
        .unwrap();
        let mut store = OpenedKeystore::empty(KeystoreFormat::Pkcs12);
        store
            .add(Entry::Trusted {
                alias: "cfgserver".into(),
                cert_der: extra.root_cert.as_ref().to_vec(),
            })
            .unwrap();
        std::fs::write(
            dir.path().join("cfg.p12"),
            store.to_bytes("Trust-Store-2026", None).unwrap(),
        )
        .unwrap();
        let key = Arc::new(MasterKey::generate().unwrap());
        let sealed = key
            .seal_for(b"Trust-Store-2026", "service.trust.password")
            .unwrap();
        replace(
            &config.model,
            &format!(
                "{MODEL}[[service.trust]]\nfile = \"cfg.p12\"\npassword = \"{sealed}\"\nwhy = \"db calls the Configuration Server\"\n"
            ),
        );
        let with_key = ModelCache::new(std::slice::from_ref(&config), Some(key));
        let db = &with_key.snapshot("lab").unwrap().trust["db"];
        assert_eq!(
            db.len(),
            3,
            "the CA's root and intermediate, then the keystore's"
        );
        assert_eq!(db[2].subject, "CN=Configuration Server CA");
        // Without the key the keystore cannot be opened and is left out.
        let without = ModelCache::new(std::slice::from_ref(&config), None);
        assert_eq!(without.snapshot("lab").unwrap().trust["db"].len(), 2);
    }

    #[test]
    fn a_broken_model_answers_its_error_until_it_is_mended() {
        let dir = tempfile::tempdir().unwrap();
        let config = platform(dir.path());
        let cache = ModelCache::new(std::slice::from_ref(&config), None);
        replace(
            &config.model,
            &MODEL.replace("usage = \"both\"", "usage = \"sideways\""),
        );
        let err = cache.snapshot("lab").err().unwrap();
        assert!(err.message().contains("does not validate"), "{err}");
        assert!(
            cache.snapshot("lab").is_err(),
            "kept while the file is unchanged"
        );
        replace(&config.model, MODEL);
        assert!(cache.snapshot("lab").is_ok());
        assert!(
            cache.snapshot("elsewhere").is_err(),
            "an unconfigured platform"
        );
    }
}
