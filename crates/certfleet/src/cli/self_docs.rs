//! What the command line says about itself: shell completions (`certfleet completions
//! bash|zsh|fish|elvish|powershell`), the man page (`certfleet man`, roff on standard
//! output, generated from the same definition as `--help`) and `certfleet version` with
//! the build's details.

use super::{Cli, Outcome};
use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;

/// `certfleet completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    shell: Shell,
}

impl CompletionsArgs {
    /// Writes the completion script to standard output.
    pub fn run(self) -> Result<Outcome> {
        let mut command = Cli::command();
        clap_complete::generate(
            self.shell,
            &mut command,
            "certfleet",
            &mut std::io::stdout(),
        );
        Ok(Outcome::Success)
    }
}

/// `certfleet man`.
#[derive(Debug, Args)]
pub struct ManArgs {}

impl ManArgs {
    /// Writes the man page (section 1, roff) to standard output.
    pub fn run(self) -> Result<Outcome> {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .context("rendering the man page")?;
        std::io::stdout()
            .write_all(&page)
            .context("writing the man page")?;
        Ok(Outcome::Success)
    }
}

/// `certfleet version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print the details as JSON.
    #[arg(long)]
    json: bool,
}

/// The build's details.
#[derive(Debug, serde::Serialize)]
struct BuildInfo {
    version: &'static str,
    target_os: &'static str,
    target_arch: &'static str,
    profile: &'static str,
    features: Vec<&'static str>,
}

fn build_info() -> BuildInfo {
    let mut features = Vec::new();
    if cfg!(feature = "etcd") {
        features.push("etcd");
    }
    BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        target_os: std::env::consts::OS,
        target_arch: std::env::consts::ARCH,
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        features,
    }
}

impl VersionArgs {
    /// Prints the version and the build's details.
    pub fn run(self) -> Result<Outcome> {
        let info = build_info();
        if self.json {
            super::output::print_json(&info)?;
        } else {
            println!(
                "certfleet {} ({}-{}, {} build{})",
                info.version,
                info.target_arch,
                info.target_os,
                info.profile,
                if info.features.is_empty() {
                    String::new()
                } else {
                    format!(", features: {}", info.features.join(", "))
                }
            );
        }
        Ok(Outcome::Success)
    }
}
