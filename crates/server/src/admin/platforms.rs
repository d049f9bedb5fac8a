//! The platform endpoints: plan and apply, through the API, the platform models that
//! the server's configuration names (`[[platform]]`, see [`certfleet_config`]).
//!
//! A model is never sent over the API: its `reload` lines are shell commands, and only
//! whoever writes the server's configuration decides which exist. The API names a
//! platform by its model's `[platform] name`; each call reads the model file afresh, so
//! an edited model is planned as it now stands.
//!
//! - `GET /api/platforms`: the configured platforms;
//! - `GET /api/platforms/{name}`: a plan that writes nothing: changes, and per service
//!   its certificate, what it trusts and why, and whom it accepts (the derived trust
//!   graph the web UI draws);
//! - `POST /api/platforms/{name}/plan`: `certfleet plan --json`, writing what plan
//!   writes (an external CA's CSR);
//! - `POST /api/platforms/{name}/apply`: `certfleet apply --json`, audited; reloads
//!   run unless the platform says `run_reloads = false`.
//!
//! One plan or apply runs at a time on this server; another apply (this server's or a
//! `certfleet apply` on the host) holding the platform's lock answers 409. A model that
//! cannot be planned as it stands answers 422 naming the file, line and key; other
//! failures are internal errors, logged with an id.

use super::auth::Actor;
use super::errors::{ApiError, ErrorBody};
use super::platform_schemas::{ApplyJson, PlanJson, PlatformJson};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
pub use certfleet_api::admin::platforms::PlatformSummary;
use certfleet_config::PlatformConfig;
use certfleet_platform::run::{
    self as platform_run, ApplyBusy, ApplyReport, PlanReport, Reloads, Target,
};
use certfleet_platform::PlatformError;
use std::sync::Arc;

/// The summary of `config`.
pub fn platform_summary(config: &PlatformConfig) -> PlatformSummary {
    PlatformSummary {
        name: config.name.clone(),
        model: config.model.display().to_string(),
        root: config.root.as_ref().map(|r| r.display().to_string()),
        run_reloads: config.run_reloads,
    }
}

/// `GET /api/platforms`: the platforms of `[[platform]]`, in configuration order.
#[utoipa::path(get, path = "/api/platforms", tag = "platforms",
    responses(
        (status = 200, description = "The configured platforms", body = [PlatformJson]),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<Arc<AppState>>) -> Json<Vec<PlatformSummary>> {
    Json(
        state
            .config
            .platforms
            .iter()
            .map(platform_summary)
            .collect(),
    )
}

/// `GET /api/platforms/{name}`: what a plan finds now, writing nothing.
#[utoipa::path(get, path = "/api/platforms/{name}", tag = "platforms",
    params(("name" = String, Path, description = "The model's [platform] name", example = "qms")),
    responses(
        (status = 200, description = "Changes a plan finds, and each service's certificate and trust", body = PlanJson),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration", body = ErrorBody),
        (status = 422, description = "The model cannot be planned; the message names the file, line and key", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<PlanReport>, ApiError> {
    Ok(Json(preview(&state, &name).await?))
}

/// The read-only plan of `name` (also the web UI's trust graph).
pub async fn preview(state: &Arc<AppState>, name: &str) -> Result<PlanReport, ApiError> {
    let config = configured(state, name)?.clone();
    let _turn = state.platform_work.lock().await;
    run_on_model(state, config, platform_run::preview).await
}

/// `POST /api/platforms/{name}/plan`: `certfleet plan --json` on the model.
#[utoipa::path(post, path = "/api/platforms/{name}/plan", tag = "platforms",
    params(("name" = String, Path, description = "The model's [platform] name", example = "qms")),
    responses(
        (status = 200, description = "What apply would change; empty changes when the platform is current", body = PlanJson),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration", body = ErrorBody),
        (status = 422, description = "The model cannot be planned; the message names the file, line and key", body = ErrorBody),
    )
)]
pub async fn plan(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<PlanReport>, ApiError> {
    let config = configured(&state, &name)?.clone();
    let _turn = state.platform_work.lock().await;
    let report = run_on_model(&state, config, |target| platform_run::plan(target, None)).await?;
    Ok(Json(report))
}

/// `POST /api/platforms/{name}/apply`: `certfleet apply --json` on the model.
#[utoipa::path(post, path = "/api/platforms/{name}/apply", tag = "platforms",
    params(("name" = String, Path, description = "The model's [platform] name", example = "qms")),
    responses(
        (status = 200, description = "What changed, each service's report, and each reload's result", body = ApplyJson),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such platform in the configuration", body = ErrorBody),
        (status = 409, description = "Another plan or apply of a platform is running", body = ErrorBody),
        (status = 422, description = "The model cannot be applied; the message names the file, line and key", body = ErrorBody),
    )
)]
pub async fn apply(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Actor(actor): Actor,
) -> Result<Json<ApplyReport>, ApiError> {
    let config = configured(&state, &name)?.clone();
    let _turn = state.platform_work.try_lock().map_err(|_| {
        ApiError::conflict(format!(
            "platform {name}: another plan or apply is running on this server; try again when it ends"
        ))
    })?;
    let reloads = if config.run_reloads {
        Reloads::Run
    } else {
        Reloads::Skip
    };
    let report = run_on_model(&state, config, move |target| {
        platform_run::apply(target, None, reloads)
    })
    .await?;
    for failed in report.reloads.iter().filter(|r| !r.ok && !r.skipped) {
        tracing::error!(
            "platform {name}: the reload command of service '{}' failed ({})",
            failed.service,
            failed.failure.as_deref().unwrap_or("unknown")
        );
    }
    certfleet_store::audit::record(
        state.store.as_ref(),
        actor,
        "platform.apply",
        &format!("platform {name}"),
        Some(&apply_summary(&report)),
    )
    .await
    .map_err(|err| ApiError::internal(format!("auditing the apply of platform {name}: {err}")))?;
    Ok(Json(report))
}

/// One line for the audit log: how much changed and how the reloads went.
fn apply_summary(report: &ApplyReport) -> String {
    let count = |pred: &dyn Fn(&platform_run::ReloadResult) -> bool| {
        report.reloads.iter().filter(|r| pred(r)).count()
    };
    format!(
        "{} change(s), {} file(s) written; reloads: {} ok, {} failed, {} skipped",
        report.changes.len(),
        report.files_written,
        count(&|r| r.ok),
        count(&|r| !r.ok && !r.skipped),
        count(&|r| r.skipped),
    )
}

fn configured<'a>(state: &'a AppState, name: &str) -> Result<&'a PlatformConfig, ApiError> {
    state
        .config
        .platforms
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "name: no platform '{name}' in the server's configuration ([[platform]])"
            ))
        })
}

/// Runs `work` on `config`'s model with the server's master key, on a blocking thread
/// (keys are made, files written, commands run), from the directory the server started
/// in, and sorts its error into an answer.
async fn run_on_model<T: Send + 'static>(
    state: &AppState,
    config: PlatformConfig,
    work: impl FnOnce(&Target<'_>) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
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
    .map_err(|err| ApiError::internal(format!("platform {name}: {err}")))?
    .map_err(|err| answer(&name, &err))
}

/// 409 for a held lock, 422 for a model or reply at fault (the message names where),
/// 500 with an id for anything else.
fn answer(name: &str, err: &anyhow::Error) -> ApiError {
    if let Some(busy) = err.downcast_ref::<ApplyBusy>() {
        return ApiError::conflict(format!(
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
        ) => ApiError::unprocessable(format!("platform {name}: {model}")),
        _ => ApiError::internal(format!("platform {name}: {err:#}")),
    }
}
