//! Shared output helpers: the leaf file set of `cert issue` and `cert import`, JSON
//! printing, and the common key and usage flags.

use anyhow::Result;
use certfleet_pki::certs::to_pem;
use certfleet_pki::keys::{KeyAlgorithm, PrivateKey};
use certfleet_pki::profile::Usage;
use certfleet_platform::files::{with_suffix, Mode, OutputSet};
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Prints one JSON document on stdout.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The `--key` and `--allow-weak` flags every command that makes a key takes.
#[derive(Debug, clap::Args)]
pub struct KeyChoice {
    /// Key algorithm: ecdsa-p256, ecdsa-p384, ed25519, rsa2048, rsa3072, rsa4096 (rsa1024 with --allow-weak).
    #[arg(long = "key", value_name = "ALG", default_value = "ecdsa-p256")]
    name: String,
    /// Accept RSA 1024 for legacy peers.
    #[arg(long)]
    allow_weak: bool,
}

impl KeyChoice {
    /// The algorithm chosen, refused when weak without `--allow-weak`.
    pub fn algorithm(&self) -> Result<KeyAlgorithm> {
        let algorithm: KeyAlgorithm = self.name.parse()?;
        algorithm.check_allowed(self.allow_weak)?;
        Ok(algorithm)
    }
}

/// Parses `--usage`.
pub fn usage(name: &str) -> Result<Usage> {
    Ok(name.parse()?)
}

/// Whether existing files holding a private key may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFiles {
    /// Refuse, naming the file, when one already exists (a new key would destroy it).
    KeepExisting,
    /// Replace them (`--force`, or a key that is the same one read from its file).
    Replace,
}

/// Writes `PREFIX.key` (when a key is given), `PREFIX.crt` (the leaf), `PREFIX.chain.crt`
/// (the chain, when there is one) and `PREFIX.pem` (key, leaf, chain; when a key is
/// given), all or nothing. With [`KeyFiles::KeepExisting`] an existing key-holding file
/// refuses the whole set. Returns the paths written.
pub fn write_leaf_files(
    prefix: &Path,
    key: Option<&PrivateKey>,
    leaf: &CertificateDer<'static>,
    chain: &[CertificateDer<'static>],
    key_files: KeyFiles,
) -> Result<Vec<PathBuf>> {
    let mut set = OutputSet::default();
    let leaf_pem = to_pem(std::slice::from_ref(leaf));
    let chain_pem = to_pem(chain);
    if let Some(key) = key {
        let key_pem = key.to_pem();
        set.add(
            with_suffix(prefix, ".key"),
            key_pem.as_bytes(),
            Mode::Secret,
        );
        let merged = zeroize::Zeroizing::new(format!("{}{leaf_pem}{chain_pem}", key_pem.as_str()));
        set.add(with_suffix(prefix, ".pem"), merged.as_bytes(), Mode::Secret);
    }
    set.add(with_suffix(prefix, ".crt"), leaf_pem, Mode::Public);
    if !chain.is_empty() {
        set.add(with_suffix(prefix, ".chain.crt"), chain_pem, Mode::Public);
    }
    if key_files == KeyFiles::KeepExisting {
        set.refuse_existing_keys()?;
    }
    set.commit()
}

/// Tells the user on stderr which files were written.
pub fn report_written(paths: &[PathBuf]) {
    for path in paths {
        eprintln!("wrote {}", path.display());
    }
}
