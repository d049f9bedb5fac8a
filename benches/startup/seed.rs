//! certfleet's domain records for the bench certificates, written through the library
//! (`DomainRepository::save`, which seals each bundle with the data directory's master
//! key and audits the write, as `certfleet domain add` and `set-cert` do) before `serve`
//! starts: the master `bench.test` without a certificate, and `dNNNNN.bench.test` under
//! it with its bundle. Writes go 64 at a time.

use crate::fleet::{bundle_path, name, ZONE};
use anyhow::{Context, Result};
use certfleet_edge::repository::DomainRepository;
use certfleet_edge::tree::records::DomainRecord;
use certfleet_secrets::{ensure_private_dir, MasterKey};
use certfleet_store::Storage;
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Writes at once.
const IN_FLIGHT: usize = 64;

/// Seeds the embedded store of `data_dir` (which must not be in use).
pub async fn embedded(data_dir: &Path, certs: &Path, count: usize) -> Result<()> {
    ensure_private_dir(data_dir)?;
    let store = certfleet_store::embedded::EmbeddedStore::open(data_dir.join("store.redb")).await?;
    seed(data_dir, Arc::new(store), certs, count).await
}

/// Seeds etcd at `endpoints` (comma-separated), sealing with `data_dir`'s master key.
pub async fn etcd(data_dir: &Path, certs: &Path, count: usize, endpoints: &str) -> Result<()> {
    use certfleet_store::etcd::{EtcdOptions, EtcdStore};
    ensure_private_dir(data_dir)?;
    let endpoints: Vec<String> = endpoints.split(',').map(str::to_owned).collect();
    let store = EtcdStore::connect(&endpoints, EtcdOptions::default()).await?;
    seed(data_dir, Arc::new(store), certs, count).await
}

async fn seed(data_dir: &Path, store: Arc<dyn Storage>, certs: &Path, count: usize) -> Result<()> {
    let key = Arc::new(MasterKey::load_or_create(data_dir)?);
    let repository = DomainRepository::new(store, key);
    let master = DomainRecord {
        name: ZONE.to_owned(),
        ..DomainRecord::default()
    };
    repository.save(&master, "bench", "domain.add").await?;
    let mut writes = JoinSet::new();
    for i in 1..=count {
        let name = name(i);
        let path = bundle_path(certs, &name);
        let pem = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let record = DomainRecord {
            name,
            parent: Some(ZONE.to_owned()),
            certificate_pem: Some(pem),
            ..DomainRecord::default()
        };
        let repository = repository.clone();
        writes.spawn(async move { repository.save(&record, "bench", "domain.set-cert").await });
        if writes.len() >= IN_FLIGHT {
            if let Some(done) = writes.join_next().await {
                done??;
            }
        }
    }
    while let Some(done) = writes.join_next().await {
        done??;
    }
    Ok(())
}
