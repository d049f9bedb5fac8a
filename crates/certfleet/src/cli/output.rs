//! Shared output helpers: JSON printing, a server's answer as JSON or text, and the common key and usage flags.

use anyhow::Result;
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;
use serde::Serialize;
use std::path::PathBuf;

/// Prints one JSON document on stdout.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints `document` as JSON with `--json` (a server's answer as received, or a
/// command's own report), else the `text`.
pub fn print_answer(
    json: bool,
    document: &impl Serialize,
    text: impl FnOnce() -> String,
) -> Result<()> {
    if json {
        return print_json(document);
    }
    print!("{}", text());
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

/// Tells the user on stderr which files were written.
pub fn report_written(paths: &[PathBuf]) {
    for path in paths {
        eprintln!("wrote {}", path.display());
    }
}
