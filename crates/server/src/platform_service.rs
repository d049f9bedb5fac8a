//! Plan and apply of the platforms the server's configuration names (`[[platform]]`),
//! for the admin API and the web UI alike: one platform at a time on this server, the
//! work on a blocking thread with the server's master key, errors sorted by whose fault
//! they are.

use crate::state::AppState;
use certfleet_api::admin::plan_apply::{ApplyJson, PlanJson, ReloadResult};
use certfleet_api::admin::platforms::PlatformSummary;
use certfleet_config::PlatformConfig;
use certfleet_platform::run::{self as platform_run, ApplyBusy, Reloads, Target};
use certfleet_platform::PlatformError;
use std::sync::Arc;

/// Why a plan or apply did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PlatformServiceError {
    /// No `[[platform]]` has that name.
    #[error("name: no platform '{0}' in the server's configuration ([[platform]])")]
    NotConfigured(String),
    /// Another plan or apply holds the platform (on this server or in another process).
    #[error("{0}")]
    Busy(String),
    /// The model or an external CA's reply is at fault; the message names where.
    #[error("{0}")]
    Model(String),
    /// Anything else (the details are for the log).
    #[error("{0}")]
    Internal(String),
}

/// The summary of `config`.
pub fn summary(config: &PlatformConfig) -> PlatformSummary {
    PlatformSummary {
        name: config.name.clone(),
        model: config.model.display().to_string(),
        root: config.root.as_ref().map(|r| r.display().to_string()),
        run_reloads: config.run_reloads,
    }
}

/// The read-only plan of `name` (also the web UI's trust graph).
pub async fn preview(state: &AppState, name: &str) -> Result<PlanJson, PlatformServiceError> {
    let config = configured(state, name)?.clone();
    let _turn = state.platform_work.lock().await;
    run_on_model(state, config, platform_run::preview).await
}

/// `certfleet plan` on `name`'s model.
pub async fn plan(state: &AppState, name: &str) -> Result<PlanJson, PlatformServiceError> {
    let config = configured(state, name)?.clone();
    let _turn = state.platform_work.lock().await;
    run_on_model(state, config, |target| platform_run::plan(target, None)).await
}

/// `certfleet apply` on `name`'s model, audited as `actor`; reloads run when the
/// configuration says so.
pub async fn apply(
    state: &AppState,
    name: &str,
    actor: &str,
) -> Result<ApplyJson, PlatformServiceError> {
    let config = configured(state, name)?.clone();
    let _turn = state.platform_work.try_lock().map_err(|_| {
        PlatformServiceError::Busy(format!(
            "platform {name}: another plan or apply is running on this server; try again when it ends"
        ))
    })?;
    let reloads = if config.run_reloads {
        Reloads::Run
    } else {
        Reloads::Skip
    };
    let applied = run_on_model(state, config, move |target| {
        platform_run::apply(target, None, reloads)
    })
    .await?;
    for failed in &applied.failures {
        tracing::error!(
            "platform {name}: the reload command of service '{}' failed ({})",
            failed.service,
            failed.how
        );
    }
    let report = applied.report;
    certfleet_store::audit::record(
        state.store.as_ref(),
        actor,
        "platform.apply",
        &format!("platform {name}"),
        Some(&apply_summary(&report)),
    )
    .await
    .map_err(|err| {
        PlatformServiceError::Internal(format!("auditing the apply of platform {name}: {err}"))
    })?;
    Ok(report)
}

/// One line for the audit log: how much changed and how the reloads went.
fn apply_summary(report: &ApplyJson) -> String {
    let count =
        |pred: &dyn Fn(&ReloadResult) -> bool| report.reloads.iter().filter(|r| pred(r)).count();
    format!(
        "{} change(s), {} file(s) written; reloads: {} ok, {} failed, {} skipped",
        report.changes.len(),
        report.files_written,
        count(&|r| r.ok),
        count(&ReloadResult::failed),
        count(&|r| r.skipped),
    )
}

fn configured<'a>(
    state: &'a AppState,
    name: &str,
) -> Result<&'a PlatformConfig, PlatformServiceError> {
    state
        .config
        .platforms
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| PlatformServiceError::NotConfigured(name.to_owned()))
}

/// Runs `work` on `config`'s model with the server's master key, on a blocking thread
/// (keys are made, files written, commands run), from the directory the server started
/// in, and sorts its error by whose fault it is.
async fn run_on_model<T: Send + 'static>(
    state: &AppState,
    config: PlatformConfig,
    work: impl FnOnce(&Target<'_>) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, PlatformServiceError> {
    let master_key = Arc::clone(&state.master_key);
    let name = config.name.clone();
    tokio::task::spawn_blocking(move || {
        let cwd = std::env::current_dir()?;
        work(&Target {
            model: &config.model,
            root: config.root.as_deref(),
            cwd: &cwd,
            master_key: Some(&master_key),
            adopt: false,
        })
    })
    .await
    .map_err(|err| PlatformServiceError::Internal(format!("platform {name}: {err}")))?
    .map_err(|err| answer(&name, &err))
}

/// Busy for a held lock or a state file in the way, Model for a model or reply at fault
/// (the message names where), Internal for anything else.
fn answer(name: &str, err: &anyhow::Error) -> PlatformServiceError {
    if let Some(busy) = err.downcast_ref::<ApplyBusy>() {
        return PlatformServiceError::Busy(format!(
            "platform {name}: another certfleet apply (process {}) holds the platform's lock; try again when it ends",
            busy.pid
        ));
    }
    match err.downcast_ref::<PlatformError>() {
        Some(
            model @ (PlatformError::Model { .. }
            | PlatformError::Reply { .. }
            | PlatformError::Unsafe { .. }
            | PlatformError::Unrecorded { .. }),
        ) => PlatformServiceError::Model(format!("platform {name}: {model}")),
        // The state directory stands in the way (a rotation the server carries out, a
        // record that does not read): a conflict the message names, like a held lock.
        Some(state @ PlatformError::State { .. }) => {
            PlatformServiceError::Busy(format!("platform {name}: {state}"))
        }
        _ => PlatformServiceError::Internal(format!("platform {name}: {err:#}")),
    }
}
