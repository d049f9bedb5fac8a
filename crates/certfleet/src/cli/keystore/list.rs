//! `certfleet keystore list`: the entries of a keystore, as text or JSON.

use super::StoreArgs;
use crate::cli::output::print_json;
use crate::cli::Outcome;
use anyhow::{Context, Result};
use certfleet_pki::inspect::keystore::{describe_entry, listing_text, ListedEntry};
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
            print!("{}", listing_text(opened.format, &entries));
        }
        Ok(Outcome::Success)
    }
}
