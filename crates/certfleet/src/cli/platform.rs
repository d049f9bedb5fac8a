//! `certfleet plan` and `certfleet apply`: the platform model (SPEC C6), carried out by
//! [`crate::platform_run`] with the data directory's master key; this module holds the
//! flags and prints the result as a table or as JSON.

use super::output::print_json;
use super::secrets::DEFAULT_DATA_DIR;
use super::Outcome;
use crate::platform_run::{apply, plan, ReloadResult, Reloads, Target};
use anyhow::{Context, Result};
use certfleet_platform::engine::{Change, Progress};
use certfleet_store::secrets::MasterKey;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

/// The flags `plan` and `apply` share.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// The platform model (TOML).
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Write every file under DIR (outputs, CA, state) instead of the real paths.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Data directory holding the master key for CRYPT: passwords (or CERTFLEET_MASTER_KEY).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `plan`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  certfleet plan --model examples/quality-management.toml --root /tmp/stage\n\nShows what apply would issue, renew, re-key, write and reload; nothing when the\nplatform is current. One exception to writing nothing: for a service with\nca = \"external\", plan writes its CSR (STATE/csr/SERVICE.csr) and keeps the CSR's key\nin the state directory (STATE/keys/SERVICE.key, mode 0600), so the request can go to\nthe CA before the first apply. STATE is BASE/.certfleet/PLATFORM, BASE being --root or\nthe model's directory."
)]
pub struct PlanArgs {
    #[command(flatten)]
    model: ModelArgs,
}

/// Arguments of `apply`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  certfleet apply --model examples/quality-management.toml --root /tmp/stage --json\n\nIssues and renews certificates, writes every output atomically (keys and keystores\nmode 0600), runs reload commands of services whose files changed (a failed one is a\nline on stderr and exit 1), and writes STATE/next-steps.txt. Like plan, it writes the\nCSR (STATE/csr/SERVICE.csr) and keeps its key (STATE/keys/SERVICE.key) for every\nca = \"external\" service still waiting for its CA. STATE is BASE/.certfleet/PLATFORM,\nBASE being --root or the model's directory."
)]
pub struct ApplyArgs {
    #[command(flatten)]
    model: ModelArgs,
}

impl ModelArgs {
    /// Runs `work` on this model with the data directory's master key, showing a progress
    /// line on stderr while keys are made (RSA 4096 takes a while), only in text mode on
    /// a terminal.
    fn with_target<T>(
        &self,
        work: impl FnOnce(&Target<'_>, Option<&Progress>) -> Result<T>,
    ) -> Result<T> {
        let master_key = MasterKey::load(&self.data_dir)
            .with_context(|| format!("{}: master key", self.data_dir.display()))?;
        let cwd = std::env::current_dir().context("the current directory")?;
        let target = Target {
            model: &self.model,
            root: self.root.as_deref(),
            cwd: &cwd,
            master_key: master_key.as_ref(),
        };
        let show_progress = !self.json && std::io::stderr().is_terminal();
        let progress = |done: usize, total: usize, service: &str| {
            eprint!("\r\x1b[2K[{done}/{total}] {service}");
        };
        let result = work(&target, show_progress.then_some(&progress as &Progress));
        if show_progress {
            eprint!("\r\x1b[2K");
        }
        result
    }
}

/// One line on stderr per failed reload, in text and JSON mode alike: the service and
/// how the command ended; neither its output nor its environment.
fn report_failed_reloads(reloads: &[ReloadResult]) {
    for r in reloads {
        if let Some(failure) = &r.failure {
            eprintln!(
                "error: the reload command of service '{}' failed ({failure})",
                r.service
            );
        }
    }
}

fn print_changes(changes: &[Change], empty: &str) {
    if changes.is_empty() {
        println!("{empty}");
        return;
    }
    let width = |f: &dyn Fn(&Change) -> usize| changes.iter().map(f).max().unwrap_or(0);
    let ws = width(&|c| c.service.len()).max("SERVICE".len());
    let wa = width(&|c| c.action.len()).max("ACTION".len());
    let wp = width(&|c| c.path.as_ref().map_or(1, String::len)).max("PATH".len());
    println!(
        "{:ws$}  {:wa$}  {:wp$}  REASON",
        "SERVICE", "ACTION", "PATH"
    );
    for c in changes {
        println!(
            "{:ws$}  {:wa$}  {:wp$}  {}",
            c.service,
            c.action,
            c.path.as_deref().unwrap_or("-"),
            c.reason
        );
    }
}

impl PlanArgs {
    pub fn run(self) -> Result<Outcome> {
        let report = self.model.with_target(plan)?;
        if self.model.json {
            print_json(&report)?;
        } else {
            print_changes(
                &report.changes,
                &format!("Platform '{}' is current: no changes.", report.platform),
            );
            for p in &report.pending_csrs {
                println!(
                    "\n{}: CSR waiting at {}; put the CA's reply at {}",
                    p.service, p.csr, p.reply
                );
            }
        }
        Ok(Outcome::Success)
    }
}

impl ApplyArgs {
    pub fn run(self) -> Result<Outcome> {
        let report = self
            .model
            .with_target(|target, progress| apply(target, progress, Reloads::Run))?;
        report_failed_reloads(&report.reloads);
        if self.model.json {
            print_json(&report)?;
        } else {
            print_changes(
                &report.changes,
                &format!("Platform '{}' is current: nothing to do.", report.platform),
            );
            println!("\n{} file(s) written.", report.files_written);
            for r in report.reloads.iter().filter(|r| r.ok) {
                println!("reloaded {}: {}", r.service, r.command);
            }
            println!("\n{}", report.next_steps);
            println!("(saved in {})", report.next_steps_file);
        }
        Ok(if report.any_reload_failed() {
            Outcome::ProblemFound
        } else {
            Outcome::Success
        })
    }
}
