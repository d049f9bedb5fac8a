//! What the administrator asks of agent renewals and staged rollouts: a renewal now
//! (`certfleet renew`, `POST /api/platforms/{platform}/services/{service}/renew`) and the
//! resumption of a halted service group (`certfleet rollout resume`,
//! `POST /api/platforms/{platform}/rollouts/{group}/resume`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A renewal asked for: the service's stored certificate is due now; its node renews it
/// when its rollout group gives it a turn.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenewalRequested {
    /// The platform.
    pub platform: String,
    /// The service.
    pub service: String,
    /// The node it runs on.
    pub node: String,
    /// Its rollout group.
    pub group: String,
    /// The thumbprint (SHA-256, lowercase hex) of the certificate to be replaced.
    pub sha256: String,
    /// Asked for with `now`: the renewal does not wait for a maintenance window.
    #[serde(default)]
    pub now: bool,
}

/// `POST /api/platforms/{platform}/services/{service}/renew` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RenewQuery {
    /// Renew without waiting for the service's maintenance window.
    #[serde(default)]
    pub now: bool,
}

/// A rollout group resumed (or found running).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RolloutResumed {
    /// The platform.
    pub platform: String,
    /// The group.
    pub group: String,
    /// Whether the group was halted (false: it was running, nothing changed).
    pub was_halted: bool,
    /// The service whose failed deployment had halted it.
    #[serde(default)]
    pub failed_service: Option<String>,
    /// That service's node.
    #[serde(default)]
    pub failed_node: Option<String>,
    /// The node's error.
    #[serde(default)]
    pub error: Option<String>,
}
