//! The certificates of the bench: one CA (a root and an issuing intermediate) and
//! COUNT ECDSA P-256 leaves named `dNNNNN.bench.test`, made in-process with certfleet's
//! own PKI code on every core.
//!
//! Written to DIR: `root.pem` (what clients trust) and `certs/NAME.pem` per name (the
//! leaf, the intermediate, then the PKCS#8 key: what HAProxy's crt-list and nginx's
//! `ssl_certificate`/`ssl_certificate_key` read, and what certfleet stores as the merged
//! bundle).

use anyhow::{Context, Result};
use certfleet_pki::authority::{init_ca, Authority};
use certfleet_pki::certs::to_pem;
use certfleet_pki::issue::{issue_leaf, LeafRequest};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;
use std::path::{Path, PathBuf};

/// The parent of every bench name.
pub const ZONE: &str = "bench.test";

/// The name of domain `i` (1-based): `d00001.bench.test`.
pub fn name(i: usize) -> String {
    format!("d{i:05}.{ZONE}")
}

/// The bundle file of `name` in DIR.
pub fn bundle_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("certs").join(format!("{name}.pem"))
}

/// Makes the CA and COUNT leaves into DIR.
pub fn generate(dir: &Path, count: usize) -> Result<()> {
    std::fs::create_dir_all(dir.join("certs"))?;
    let made = init_ca(
        "certfleet startup bench root",
        KeyAlgorithm::EcdsaP256,
        365,
        Some("certfleet startup bench issuing"),
    )?;
    let (intermediate, key) = made.intermediate.context("an intermediate was asked for")?;
    let authority = Authority::new(intermediate.clone(), key, vec![made.root_cert.clone()])?;
    std::fs::write(dir.join("root.pem"), to_pem(&[made.root_cert]))?;
    let intermediate_pem = to_pem(&[intermediate]);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let (authority, intermediate_pem) = (&authority, &intermediate_pem);
                scope.spawn(move || -> Result<()> {
                    for i in (1..=count).filter(|i| i % threads == worker) {
                        let name = name(i);
                        let request = LeafRequest {
                            cn: name.clone(),
                            dns_names: Vec::new(),
                            ips: Vec::new(),
                            usage: Usage::Server,
                            days: 90,
                            key: KeyAlgorithm::EcdsaP256,
                        };
                        let leaf = issue_leaf(&request, Some(authority))?;
                        let text = format!(
                            "{}{intermediate_pem}{}",
                            to_pem(&[leaf.cert]),
                            leaf.key.to_pem().as_str()
                        );
                        std::fs::write(bundle_path(dir, &name), text)?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|worker| {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a worker panicked"))?
        })
    })
}
