//! Carrying out `plan` and `apply` on a platform model, for the command line
//! and for the server's `/api/platforms/...` alike. The platform crate works everything
//! out; this module loads the CA, writes the files it returns all at once (temporary
//! files renamed into place, keys and keystores 0600, directories it creates 0700), takes
//! the per-platform apply lock, and runs the reload commands ([`run_command`]) unless they are
//! held back, in which case they stay pending. The answers are the API's [`PlanJson`] and
//! [`ApplyJson`], printed by `plan --json` and `apply --json` and answered by the server
//! alike; printing is the caller's.

mod reload;

pub use reload::{run_command, CommandRun, ReloadFailure};

use crate::ca_dir::load_issuing_ca;
use crate::engine::{evaluate, Evaluation, Mode, Options, Progress};
use crate::files::{Mode as FileMode, OutputSet, Ownership};
use anyhow::{Context, Result};
use certfleet_api::admin::plan_apply::{
    ApplyJson, Connection, PlanJson, ReloadResult, RotationJson,
};
use certfleet_secrets::MasterKey;
use std::path::{Path, PathBuf};

/// Which model, where its files go, and how `CRYPT:` passwords are opened.
pub struct Target<'a> {
    /// The model file.
    pub model: &'a Path,
    /// `--root` (or `[[platform]] root`): every output under this directory.
    pub root: Option<&'a Path>,
    /// The directory relative paths are taken from.
    pub cwd: &'a Path,
    /// The master key for `CRYPT:` passwords, when there is one.
    pub master_key: Option<&'a MasterKey>,
    /// Take over files at output paths that certfleet did not write (`apply --adopt`).
    pub adopt: bool,
}

/// Whether `apply` runs the model's reload commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reloads {
    /// Run each one (`sh -c`).
    Run,
    /// Run none: each is reported as skipped and stays pending for the next apply
    /// (`--no-reload`, `--root` without `--reload`, `run_reloads = false`).
    Skip,
}

/// The rotation part of an evaluation's answer, when a rotation runs.
fn rotation_json(eval: &Evaluation) -> Option<RotationJson> {
    eval.rotation.as_ref().map(|record| {
        crate::rotation::report::rotation_json(
            record,
            &crate::rotation::report::Findings {
                changes: &eval.changes,
                services: &eval.services,
                needs_cross_sign: eval.needs_cross_sign.clone(),
                now: time::OffsetDateTime::now_utc(),
            },
        )
    })
}

/// The answer of a plan's evaluation (its files already written or dropped).
fn plan_json(eval: Evaluation) -> PlanJson {
    let rotation = rotation_json(&eval);
    PlanJson {
        platform: eval.platform,
        changes: eval.changes,
        services: eval.services,
        connections: eval
            .connections
            .into_iter()
            .map(|c| Connection {
                from: c.from,
                to: c.to,
                mtls: c.mtls,
            })
            .collect(),
        state_dir: eval.state_dir.display().to_string(),
        pending_csrs: eval.pending_csrs,
        unrecorded_files: eval
            .unrecorded
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        rotation,
    }
}

/// What `apply` did ([`ApplyJson`], the answer), and how each reload that ran and failed
/// ended, for a line on stderr or in the log (the answer keeps exit codes and output).
#[derive(Debug)]
pub struct Applied {
    /// The answer of `apply --json` and `POST /api/platforms/{name}/apply`.
    pub report: ApplyJson,
    /// One per reload that ran and failed, in the order of `report.reloads`.
    pub failures: Vec<ReloadFailure>,
}

/// Another apply holds the platform's lock.
#[derive(Debug, thiserror::Error)]
#[error("{path}: another certfleet apply (process {pid}) is working on platform '{platform}'; wait for it, or remove the file if that process is gone")]
pub struct ApplyBusy {
    /// The lock file.
    pub path: String,
    /// The process holding it.
    pub pid: String,
    /// The platform.
    pub platform: String,
}

/// Plans: evaluates the model and writes only what plan writes (the CSR and its key of a
/// service waiting for an external CA).
pub fn plan(target: &Target<'_>, progress: Option<&Progress>) -> Result<PlanJson> {
    let mut eval = evaluate_model(target, Mode::Plan, progress)?;
    write_files(&mut eval)?;
    Ok(plan_json(eval))
}

/// Evaluates the model as plan would, writing nothing at all: for views that must not
/// change anything (a CSR plan would write is reported but not made).
pub fn preview(target: &Target<'_>) -> Result<PlanJson> {
    Ok(plan_json(evaluate_model(target, Mode::Plan, None)?))
}

/// Applies: takes the platform's lock, issues, writes every file at once, runs (or
/// skips) the reload commands, and records which reloads succeeded.
pub fn apply(
    target: &Target<'_>,
    progress: Option<&Progress>,
    reloads: Reloads,
) -> Result<Applied> {
    if reloads == Reloads::Run {
        // The model may have changed hands since it was configured or named.
        crate::guard::refuse_model_writable_by_others(target.model)?;
    }
    let _lock = ApplyLock::acquire(target)?;
    let mut eval = evaluate_model(target, Mode::Apply, progress)?;
    if let Some(record) = &eval.rotation {
        record.refuse_server_driven(&eval.state_dir)?;
    }
    let written = write_files(&mut eval)?;
    let mut results: Vec<ReloadResult> = Vec::with_capacity(eval.reloads.len());
    let mut failures = Vec::new();
    for r in &eval.reloads {
        match reloads {
            Reloads::Run => {
                let (result, failure) = reload::run(&r.service, &r.command, r.timeout);
                results.push(result);
                failures.extend(failure);
            }
            Reloads::Skip => results.push(reload::skipped(&r.service, &r.command, r.timeout)),
        }
    }
    let succeeded: Vec<String> = results
        .iter()
        .filter(|r| r.ok)
        .map(|r| r.service.clone())
        .collect();
    crate::state::record_reloads(&eval.state_file, &succeeded)?;
    let rotation = match eval.rotation.take() {
        Some(record) => rotation_after(target, &eval, record, &results)?,
        None => None,
    };
    let report = ApplyJson {
        platform: eval.platform,
        changes: eval.changes,
        services: eval.services,
        reloads: results,
        files_written: written.len(),
        state_dir: eval.state_dir.display().to_string(),
        next_steps: eval.next_steps,
        next_steps_file: eval.next_steps_file.display().to_string(),
        passwords_file: eval.passwords_file.map(|p| p.display().to_string()),
        pending_csrs: eval.pending_csrs,
        rotation,
    };
    Ok(Applied { report, failures })
}

/// Moves the rotation on when this apply finished its phase (every reload ran and
/// succeeded, none pending), and answers where it stands now: what the next phase has to
/// write comes from a fresh evaluation. `None` when the rotation ended.
fn rotation_after(
    target: &Target<'_>,
    eval: &Evaluation,
    record: crate::rotation::record::Record,
    results: &[ReloadResult],
) -> Result<Option<RotationJson>> {
    use crate::rotation::advance::{after_apply, Advance};
    let pending = crate::state::State::load(&eval.state_file)?.pending_reloads;
    let done = results.iter().all(|r| r.ok) && pending.is_empty();
    let now = time::OffsetDateTime::now_utc();
    match after_apply(&eval.state_dir, eval.ca_dir.as_deref(), record, done, now)? {
        Advance::Finished(_) => Ok(None),
        Advance::Held | Advance::Moved(_) => {
            let fresh = evaluate_model(target, Mode::Plan, None)?;
            Ok(rotation_json(&fresh))
        }
    }
}

fn evaluate_model(
    target: &Target<'_>,
    mode: Mode,
    progress: Option<&Progress>,
) -> Result<Evaluation> {
    let load_ca = |dir: &Path| load_issuing_ca(dir).map_err(|e| format!("{e:#}"));
    let opts = Options {
        model_path: target.model,
        root: target.root,
        cwd: target.cwd,
        master_key: target.master_key,
        now: time::OffsetDateTime::now_utc(),
        load_ca: &load_ca,
        progress,
        adopt: target.adopt,
    };
    Ok(evaluate(&opts, mode)?)
}

/// One `apply` at a time per platform: `STATE/.lock` holds the process id of the apply
/// that runs and is removed when it ends. A lock left by a process that no longer exists
/// (as `/proc` tells) is taken over.
pub(crate) struct ApplyLock {
    path: PathBuf,
    /// Directories made for the lock, deepest first; removed again if left empty.
    made: Vec<PathBuf>,
}

impl ApplyLock {
    pub(crate) fn acquire(target: &Target<'_>) -> Result<Self> {
        let platform = crate::engine::load_model(target.model)?;
        let layout =
            crate::paths::Layout::new(target.model, target.root, &platform.name, target.cwd);
        let dir = layout.state_dir();
        if let Some(confinement) = layout.confinement()? {
            confinement.check(dir)?;
        }
        let made: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect();
        create_private_dirs(dir)?;
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
                        return Err(ApplyBusy {
                            path: path.display().to_string(),
                            pid: pid.to_owned(),
                            platform: platform.name.clone(),
                        }
                        .into());
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
        create_private_dirs(dir)?;
    }
    // Every owner and group is looked up before anything is written.
    let mut owned = std::collections::BTreeMap::new();
    for (path, access) in &eval.access {
        owned.insert(path.clone(), ownership_of(path, access)?);
    }
    let mut set = OutputSet::default();
    for file in std::mem::take(&mut eval.files) {
        if let Some(parent) = file.path.parent() {
            create_private_dirs(parent)?;
        }
        let mode = if file.secret {
            FileMode::Secret
        } else {
            FileMode::Public
        };
        let ownership = owned.get(&file.path).copied().unwrap_or_default();
        set.add_owned(file.path.clone(), file.contents.to_vec(), mode, ownership);
    }
    set.commit()
}

/// The mode, user id and group id the model's `access` names for the file at `path`.
fn ownership_of(path: &Path, access: &crate::spec::FileAccess) -> Result<Ownership> {
    let unknown = |what: &str, name: &str, why: String| {
        anyhow::anyhow!("{}: {what} '{name}': {why}", path.display())
    };
    let uid = match &access.owner {
        Some(name) => Some(
            nix::unistd::User::from_name(name)
                .map_err(|e| unknown("owner", name, e.to_string()))?
                .ok_or_else(|| unknown("owner", name, "no such user".into()))?
                .uid
                .as_raw(),
        ),
        None => None,
    };
    let gid = match &access.group {
        Some(name) => Some(
            nix::unistd::Group::from_name(name)
                .map_err(|e| unknown("group", name, e.to_string()))?
                .ok_or_else(|| unknown("group", name, "no such group".into()))?
                .gid
                .as_raw(),
        ),
        None => None,
    };
    Ok(Ownership {
        mode: access.mode,
        uid,
        gid,
    })
}

/// Creates `dir` and its missing parents, each new one mode 0700 whatever the umask
/// (existing directories are left as they are).
fn create_private_dirs(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    for new in missing.into_iter().rev() {
        match std::fs::create_dir(new) {
            Ok(()) => std::fs::set_permissions(new, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("{}: cannot set its mode", new.display()))?,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("{}: cannot create the directory", new.display()))
            }
        }
    }
    Ok(())
}
