//! `certfleet plan` and `certfleet apply`: the platform model, carried out by
//! [`certfleet_platform::run`] with the data directory's master key; this module holds the
//! flags and prints the result as a table or as JSON (the API's answers, `PlanJson` and
//! `ApplyJson`).

use super::output::print_json;
use super::secrets::DEFAULT_DATA_DIR;
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_api::admin::plan_apply::Change;
use certfleet_platform::engine::Progress;
use certfleet_platform::guard::refuse_model_writable_by_others;
use certfleet_platform::rotation::report::rotation_text;
use certfleet_platform::run::{apply, plan, ReloadFailure, Reloads, Target};
use certfleet_secrets::MasterKey;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

/// The flags `plan` and `apply` share.
#[derive(Debug, Args)]
pub(super) struct ModelArgs {
    /// The platform model (TOML). Refused when users other than its owner could change it.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Write every file under DIR (outputs, CA, state) instead of the real paths; apply
    /// then runs no reload command unless --reload is given.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Data directory holding the master key for CRYPT: passwords (or CERTFLEET_MASTER_KEY).
    #[arg(long, value_name = "DIR", env = "CERTFLEET_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub(super) json: bool,
}

/// Arguments of `plan`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  certfleet plan --model examples/quality-management.toml --root /tmp/stage\n\nShows what apply would issue, renew, re-key, write and reload (a reload the last\napply held back or that failed is listed as pending); nothing when the platform is\ncurrent. A file already at an output path that certfleet did not write is named:\napply refuses it unless given --adopt. One exception to writing nothing: for a\nservice with ca = \"external\", plan writes its CSR (STATE/csr/SERVICE.csr) and keeps\nthe CSR's key in the state directory (STATE/keys/SERVICE.key, mode 0600), so the\nrequest can go to the CA before the first apply. STATE is BASE/.certfleet/PLATFORM,\nBASE being --root or the model's directory. A model (or its directory) writable by\nother users is refused."
)]
pub struct PlanArgs {
    #[command(flatten)]
    model: ModelArgs,
}

/// Arguments of `apply`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  certfleet apply --model examples/quality-management.toml --root /tmp/stage --json\n\nIssues and renews certificates, writes every output atomically (keys and keystores\nmode 0600, new directories 0700), runs the reload commands of services whose files\nchanged (each killed after its reload_timeout, 60 s by default; a failed one is a line\non stderr with what it wrote there, and exit 1), and writes STATE/next-steps.txt.\nWith --root no reload runs unless --reload is given; --no-reload holds them back on\nthe real paths too. A reload not run stays pending: plan lists it and the next apply\nthat runs reloads runs it. A file at an output path that certfleet did not write is\nrefused, and nothing is written, unless --adopt (or --force) takes it over. Like plan,\nit writes the CSR (STATE/csr/SERVICE.csr) and keeps its key (STATE/keys/SERVICE.key)\nfor every ca = \"external\" service still waiting for its CA. STATE is\nBASE/.certfleet/PLATFORM, BASE being --root or the model's directory."
)]
pub struct ApplyArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Run the reload commands even with --root (they run as you, on this host).
    #[arg(long, conflicts_with = "no_reload")]
    reload: bool,
    /// Run no reload command; each stays pending for a later apply.
    #[arg(long)]
    no_reload: bool,
    /// Take over files at output paths that certfleet did not write: overwrite them and
    /// manage them from now on.
    #[arg(long)]
    adopt: bool,
    /// Overwrite files at output paths that certfleet did not write (as --adopt).
    #[arg(long)]
    force: bool,
}

impl ModelArgs {
    /// The arguments of a command that takes them its own way (`rotate`, which takes
    /// `--platform` instead of `--model` too).
    pub(super) fn new(
        model: PathBuf,
        root: Option<PathBuf>,
        data_dir: PathBuf,
        json: bool,
    ) -> Self {
        ModelArgs {
            model,
            root,
            data_dir,
            json,
        }
    }

    /// Runs `work` on this model with the data directory's master key, showing a progress
    /// line on stderr while keys are made (RSA 4096 takes a while), only in text mode on
    /// a terminal. The model is refused first when others could change it.
    pub(super) fn with_target<T>(
        &self,
        adopt: bool,
        work: impl FnOnce(&Target<'_>, Option<&Progress>) -> Result<T>,
    ) -> Result<T> {
        refuse_model_writable_by_others(&self.model)?;
        let master_key = MasterKey::load(&self.data_dir)
            .with_context(|| format!("{}: master key", self.data_dir.display()))?;
        let cwd = std::env::current_dir().context("the current directory")?;
        let target = Target {
            model: &self.model,
            root: self.root.as_deref(),
            cwd: &cwd,
            master_key: master_key.as_ref(),
            adopt,
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

/// Lines on stderr per failed reload, in text and JSON mode alike: the service, how the
/// command ended, and the last lines it wrote to stderr (never its environment).
fn report_failed_reloads(failures: &[ReloadFailure]) {
    for r in failures {
        eprintln!(
            "error: the reload command of service '{}' failed ({})",
            r.service, r.how
        );
        for line in r.stderr.iter().flat_map(|e| e.lines()) {
            eprintln!("  {line}");
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
        let report = self.model.with_target(false, plan)?;
        if self.model.json {
            print_json(&report)?;
        } else {
            if let Some(rotation) = &report.rotation {
                println!("{}", rotation_text(rotation));
            }
            print_changes(
                &report.changes,
                &format!("Platform '{}' is current: no changes.", report.platform),
            );
            if !report.unrecorded_files.is_empty() {
                println!(
                    "\nNot written by certfleet (apply refuses to overwrite them unless given --adopt):"
                );
                for file in &report.unrecorded_files {
                    println!("  {file}");
                }
            }
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
        // Under --root the reload commands are not the staged copy's: they act on this
        // host, so they run only when asked for.
        let reloads = if self.no_reload || (self.model.root.is_some() && !self.reload) {
            Reloads::Skip
        } else {
            Reloads::Run
        };
        let applied = self
            .model
            .with_target(self.adopt || self.force, |target, progress| {
                apply(target, progress, reloads)
            })?;
        report_failed_reloads(&applied.failures);
        let report = applied.report;
        if self.model.json {
            print_json(&report)?;
        } else {
            print_changes(
                &report.changes,
                &format!("Platform '{}' is current: nothing to do.", report.platform),
            );
            println!("\n{} file(s) written.", report.files_written);
            for r in &report.reloads {
                if r.ok {
                    println!("reloaded {}: {}", r.service, r.command);
                } else if r.skipped {
                    println!(
                        "reload pending for {} (not run{}): {}",
                        r.service,
                        if self.model.root.is_some() && !self.no_reload {
                            " under --root; --reload runs it"
                        } else {
                            "; an apply without --no-reload runs it"
                        },
                        r.command
                    );
                } else {
                    println!(
                        "reload pending for {} (it failed): {}",
                        r.service, r.command
                    );
                }
            }
            if let Some(rotation) = &report.rotation {
                print!("\n{}", rotation_text(rotation));
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
