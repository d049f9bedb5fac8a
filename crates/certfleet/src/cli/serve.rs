//! `certfleet serve`: runs the TLS edge and the admin API (see [`certfleet_server::run`]).

use super::client::DATA_DIR_ENV;
use super::Outcome;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `certfleet serve`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  certfleet serve --config /etc/certfleet/certfleet.toml\n\nWith no configuration it serves on loopback ports from ./certfleet-data and prints the addresses."
)]
pub struct ServeArgs {
    /// The configuration file (TOML); defaults apply when omitted.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The data directory (store, master key, admin token, default certificate); wins
    /// over the file's `data_dir`.
    #[arg(long, value_name = "DIR", env = DATA_DIR_ENV)]
    data_dir: Option<PathBuf>,
}

impl ServeArgs {
    /// Serves until Ctrl-C or SIGTERM.
    pub fn run(self) -> Result<Outcome> {
        super::logging::init()?;
        certfleet_server::run(self.config.as_deref(), self.data_dir.as_deref())?;
        Ok(Outcome::Success)
    }
}
