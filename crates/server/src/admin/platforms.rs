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

use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::platform_service::{self, PlatformServiceError};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use certfleet_api::admin::plan_apply::{ApplyJson, PlanJson};
pub use certfleet_api::admin::platforms::PlatformSummary;
use std::sync::Arc;

/// `GET /api/platforms`: the platforms of `[[platform]]`, in configuration order.
#[utoipa::path(get, path = "/api/platforms", tag = "platforms",
    responses(
        (status = 200, description = "The configured platforms", body = [PlatformSummary]),
        (status = 401, description = "No credentials", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<Arc<AppState>>) -> Json<Vec<PlatformSummary>> {
    Json(
        state
            .config
            .platforms
            .iter()
            .map(platform_service::summary)
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
) -> Result<Json<PlanJson>, ApiError> {
    Ok(Json(platform_service::preview(&state, &name).await?))
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
) -> Result<Json<PlanJson>, ApiError> {
    Ok(Json(platform_service::plan(&state, &name).await?))
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
) -> Result<Json<ApplyJson>, ApiError> {
    let report = platform_service::apply(&state, &name, actor).await?;
    Ok(Json(report))
}

impl From<PlatformServiceError> for ApiError {
    fn from(err: PlatformServiceError) -> Self {
        match err {
            PlatformServiceError::NotConfigured(_) => ApiError::not_found(err.to_string()),
            PlatformServiceError::Busy(message) => ApiError::conflict(message),
            PlatformServiceError::Model(message) => ApiError::unprocessable(message),
            PlatformServiceError::Internal(message) => ApiError::internal(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::admin::api_routes;
    use certfleet_api::admin::plan_apply::{
        AllowedClient, ApplyJson, Change, Connection, OutputReport, PendingCsrFile, PlanJson,
        ReloadResult, ServiceReport, TrustReport,
    };
    use std::collections::BTreeMap;
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::ToSchema;

    /// The document's schema of `T`'s name is `T`'s, not another type's of the same name.
    fn assert_own_schema<T: ToSchema>(components: &BTreeMap<String, RefOr<Schema>>) {
        let name = T::name();
        let described = components
            .get(name.as_ref())
            .unwrap_or_else(|| panic!("the document has no schema {name}"));
        assert_eq!(
            serde_json::to_value(described).unwrap(),
            serde_json::to_value(T::schema()).unwrap(),
            "the document's schema {name} is another type's"
        );
    }

    #[test]
    fn the_document_describes_plan_and_apply_answers_with_their_own_schemas() {
        let (_, document) = api_routes().split_for_parts();
        let components = document.components.unwrap_or_default().schemas;
        assert_own_schema::<PlanJson>(&components);
        assert_own_schema::<ApplyJson>(&components);
        assert_own_schema::<Change>(&components);
        assert_own_schema::<ServiceReport>(&components);
        assert_own_schema::<TrustReport>(&components);
        assert_own_schema::<AllowedClient>(&components);
        assert_own_schema::<OutputReport>(&components);
        assert_own_schema::<PendingCsrFile>(&components);
        assert_own_schema::<Connection>(&components);
        assert_own_schema::<ReloadResult>(&components);
    }
}
