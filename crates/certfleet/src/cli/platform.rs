//! `certfleet plan` and `certfleet apply`: the platform model (SPEC C6). The library
//! crate works everything out; this module loads the CA, writes the files it returns all
//! at once (temporary files renamed into place, keys and keystores 0600), runs the reload
//! commands, and prints the result as a table or as JSON.

use super::ca_dir::load_issuing_ca;
use super::output::print_json;
use super::secrets::DEFAULT_DATA_DIR;
use super::Outcome;
use crate::files::{Mode as FileMode, OutputSet};
use anyhow::{Context, Result};
use certfleet_platform::engine::{evaluate, Change, Evaluation, Mode, Options};
use certfleet_store::secrets::{ensure_private_dir, MasterKey, MASTER_KEY_ENV};
use clap::Args;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

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

#[derive(Serialize)]
struct PlanJson<'a> {
    changes: &'a [Change],
    state_dir: String,
    pending_csrs: &'a [certfleet_platform::report::PendingCsr],
}

#[derive(Serialize)]
struct ReloadResult {
    service: String,
    command: String,
    ok: bool,
    exit_status: Option<i32>,
    /// The last lines the command printed, when it failed.
    output: Option<String>,
    /// How it ended when it failed (`exit status: 3`, `signal: 9 (SIGKILL)`, or why it
    /// could not run), for the line on stderr.
    #[serde(skip)]
    failure: Option<String>,
}

#[derive(Serialize)]
struct ApplyJson<'a> {
    changes: &'a [Change],
    services: &'a [certfleet_platform::report::ServiceReport],
    reloads: &'a [ReloadResult],
    state_dir: String,
    next_steps_file: String,
    passwords_file: Option<String>,
    pending_csrs: &'a [certfleet_platform::report::PendingCsr],
}

impl ModelArgs {
    fn evaluate(&self, mode: Mode) -> Result<Evaluation> {
        let master_key = MasterKey::load(&self.data_dir)
            .with_context(|| format!("{}: master key", self.data_dir.display()))?;
        let cwd = std::env::current_dir().context("the current directory")?;
        let load_ca = |dir: &Path| load_issuing_ca(dir).map_err(|e| format!("{e:#}"));
        // A progress line on stderr while keys are made (RSA 4096 takes a while); only
        // in text mode on a terminal.
        let show_progress = !self.json && std::io::stderr().is_terminal();
        let progress = |done: usize, total: usize, service: &str| {
            eprint!("\r\x1b[2K[{done}/{total}] {service}");
        };
        let opts = Options {
            model_path: &self.model,
            root: self.root.as_deref(),
            cwd: &cwd,
            master_key: master_key.as_ref(),
            now: time::OffsetDateTime::now_utc(),
            load_ca: &load_ca,
            progress: if show_progress { Some(&progress) } else { None },
        };
        let result = evaluate(&opts, mode);
        if show_progress {
            eprint!("\r\x1b[2K");
        }
        Ok(result?)
    }
}

/// One `apply` at a time per platform: `STATE/.lock` holds the process id of the apply
/// that runs and is removed when it ends. A lock left by a process that no longer exists
/// (as `/proc` tells) is taken over.
struct ApplyLock {
    path: PathBuf,
    /// Directories made for the lock, deepest first; removed again if left empty.
    made: Vec<PathBuf>,
}

impl ApplyLock {
    fn acquire(args: &ModelArgs) -> Result<Self> {
        let platform = certfleet_platform::engine::load_model(&args.model)?;
        let cwd = std::env::current_dir().context("the current directory")?;
        let layout = certfleet_platform::paths::Layout::new(
            &args.model,
            args.root.as_deref(),
            &platform.name,
            &cwd,
        );
        let dir = layout.state_dir();
        let made: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect();
        ensure_private_dir(dir).with_context(|| format!("{}", dir.display()))?;
        let path = dir.join(".lock");
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    use std::io::Write;
                    writeln!(file, "{}", std::process::id())
                        .with_context(|| format!("{}", path.display()))?;
                    return Ok(ApplyLock { path, made });
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = holder.trim();
                    let alive = !pid.is_empty() && Path::new("/proc").join(pid).exists();
                    if alive {
                        anyhow::bail!(
                            "{}: another certfleet apply (process {pid}) is working on platform '{}'; wait for it, or remove the file if that process is gone",
                            path.display(),
                            platform.name
                        );
                    }
                    // Stale: its process is gone.
                    let _ = std::fs::remove_file(&path);
                }
                Err(err) => {
                    return Err(err).with_context(|| format!("{}: cannot lock", path.display()))
                }
            }
        }
        anyhow::bail!("{}: cannot take the lock", path.display())
    }
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        // Best effort: a lock left behind is taken over by the next apply, and a
        // directory that is not empty stays.
        let _ = std::fs::remove_file(&self.path);
        for dir in &self.made {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Writes the evaluation's files: private directories 0700, other parents created, then
/// every file through one all-or-nothing [`OutputSet`].
fn write_files(eval: &mut Evaluation) -> Result<Vec<PathBuf>> {
    if eval.files.is_empty() {
        return Ok(Vec::new());
    }
    for dir in &eval.private_dirs {
        ensure_private_dir(dir).with_context(|| format!("{}", dir.display()))?;
    }
    let mut set = OutputSet::default();
    for file in std::mem::take(&mut eval.files) {
        if let Some(parent) = file.path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create the directory", parent.display()))?;
        }
        let mode = if file.secret {
            FileMode::Secret
        } else {
            FileMode::Public
        };
        set.add(file.path.clone(), file.contents.to_vec(), mode);
    }
    set.commit()
}

/// Runs one reload command (`sh -c`, stdin closed, output captured). The master key
/// is taken out of its environment: a reload has no use for it, and what a failing
/// command prints ends up in the report.
fn run_reload(service: &str, command: &str) -> ReloadResult {
    let result = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env_remove(MASTER_KEY_ENV)
        .stdin(std::process::Stdio::null())
        .output();
    match result {
        Ok(out) => {
            let ok = out.status.success();
            let output = (!ok).then(|| {
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(10)..].join("\n")
            });
            ReloadResult {
                service: service.to_owned(),
                command: command.to_owned(),
                ok,
                exit_status: out.status.code(),
                output,
                failure: (!ok).then(|| out.status.to_string()),
            }
        }
        Err(err) => ReloadResult {
            service: service.to_owned(),
            command: command.to_owned(),
            ok: false,
            exit_status: None,
            output: Some(format!("cannot run sh: {err}")),
            failure: Some(format!("cannot run sh: {err}")),
        },
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
        let mut eval = self.model.evaluate(Mode::Plan)?;
        write_files(&mut eval)?;
        if self.model.json {
            print_json(&PlanJson {
                changes: &eval.changes,
                state_dir: eval.state_dir.display().to_string(),
                pending_csrs: &eval.pending_csrs,
            })?;
        } else {
            print_changes(
                &eval.changes,
                &format!("Platform '{}' is current: no changes.", eval.platform),
            );
            for p in &eval.pending_csrs {
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
        let _lock = ApplyLock::acquire(&self.model)?;
        let mut eval = self.model.evaluate(Mode::Apply)?;
        let written = write_files(&mut eval)?;
        let reloads: Vec<ReloadResult> = eval
            .reloads
            .iter()
            .map(|r| run_reload(&r.service, &r.command))
            .collect();
        let succeeded: Vec<String> = reloads
            .iter()
            .filter(|r| r.ok)
            .map(|r| r.service.clone())
            .collect();
        certfleet_platform::state::record_reloads(&eval.state_file, &succeeded)?;
        let failed = reloads.iter().any(|r| !r.ok);
        report_failed_reloads(&reloads);
        if self.model.json {
            print_json(&ApplyJson {
                changes: &eval.changes,
                services: &eval.services,
                reloads: &reloads,
                state_dir: eval.state_dir.display().to_string(),
                next_steps_file: eval.next_steps_file.display().to_string(),
                passwords_file: eval
                    .passwords_file
                    .as_ref()
                    .map(|p| p.display().to_string()),
                pending_csrs: &eval.pending_csrs,
            })?;
        } else {
            print_changes(
                &eval.changes,
                &format!("Platform '{}' is current: nothing to do.", eval.platform),
            );
            println!("\n{} file(s) written.", written.len());
            for r in reloads.iter().filter(|r| r.ok) {
                println!("reloaded {}: {}", r.service, r.command);
            }
            println!("\n{}", eval.next_steps);
            println!("(saved in {})", eval.next_steps_file.display());
        }
        Ok(if failed {
            Outcome::ProblemFound
        } else {
            Outcome::Success
        })
    }
}
