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

impl VersionArgs {
    /// Prints the version and the build's details.
    pub fn run(self) -> Result<Outcome> {
        // The server reports the same details as `certfleet_build_info`.
        let info = certfleet_server::build_details::build_info();
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
