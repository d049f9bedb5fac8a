//! `certfleet keystore list`: the entries of a keystore, as text or JSON.

use super::StoreArgs;
use crate::cli::output::print_json;
use crate::cli::Outcome;
use anyhow::{Context, Result};
use certfleet_formats::keystore::KeystoreFormat;
use certfleet_pki::inspect::day_count::Days;
use certfleet_pki::inspect::keystore::{describe_entry, ListedEntry};
use clap::Args;
use serde::Serialize;
use time::OffsetDateTime;

/// Arguments of `keystore list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

/// What `list --json` prints.
#[derive(Debug, Serialize)]
struct Listing {
    file: String,
    format: &'static str,
    entries: Vec<ListedEntry>,
}

fn keytool_name(format: KeystoreFormat) -> &'static str {
    match format {
        KeystoreFormat::Jks => "JKS",
        KeystoreFormat::Pkcs12 => "PKCS12",
    }
}

impl ListArgs {
    pub fn run(self) -> Result<Outcome> {
        let opened = self.store.open()?;
        let now = OffsetDateTime::now_utc();
        let entries = opened
            .store
            .entries
            .iter()
            .map(|entry| describe_entry(entry, now))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| self.store.name())?;
        if self.json {
            print_json(&Listing {
                file: self.store.name(),
                format: opened.format.name(),
                entries,
            })?;
        } else {
            print!("{}", render(opened.format, &entries));
        }
        Ok(Outcome::Success)
    }
}

fn render(format: KeystoreFormat, entries: &[ListedEntry]) -> String {
    let mut out = format!(
        "Keystore type: {}\n{} entr{}\n",
        keytool_name(format),
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" }
    );
    for entry in entries {
        let kind = match entry.kind {
            "private_key" => format!("PrivateKeyEntry, chain length {}", entry.chain_length),
            _ => "trustedCertEntry".to_owned(),
        };
        out += &format!(
            "\n{}: {kind}\n  subject:             {}\n  issuer:              {}\n  expires:             {} ({} remaining)\n  SHA-1 thumbprint:    {}\n  SHA-256 fingerprint: {}\n",
            entry.alias,
            entry.subject,
            entry.issuer,
            entry.not_after,
            Days(entry.days_remaining),
            entry.sha1_thumbprint,
            entry.sha256_fingerprint,
        );
    }
    out
}
