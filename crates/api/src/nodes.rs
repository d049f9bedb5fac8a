//! What the administrator asks about nodes: enrolment tokens, and the deployment state of
//! every node and service (`certfleet node token`, `certfleet nodes`, `/api/nodes`).

use crate::agent::{CheckResult, HookResult};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// `POST /api/platforms/{platform}/nodes/{node}/tokens`: a new enrolment token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct NodeTokenRequest {
    /// How long the token stays valid, in seconds (default 3600).
    pub ttl_seconds: Option<u64>,
}

/// A new enrolment token. It is shown once; the server keeps only its hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodeToken {
    /// The platform.
    pub platform: String,
    /// The node it enrols.
    pub node: String,
    /// The token, for `certfleet agent enroll --token`.
    pub token: String,
    /// When it stops being accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `GET /api/nodes`: every node of every platform the server manages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodesAnswer {
    /// The nodes, by platform then node name.
    pub nodes: Vec<NodeStatus>,
}

/// One node.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodeStatus {
    /// The platform.
    pub platform: String,
    /// The node.
    pub node: String,
    /// Whether an agent has enrolled for it.
    pub enrolled: bool,
    /// When its agent last asked or reported.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<OffsetDateTime>,
    /// The agent's version, from its last report.
    pub agent_version: Option<String>,
    /// Its services.
    pub services: Vec<ServiceDeployment>,
}

/// One service on a node: what it should have and what it has.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceDeployment {
    /// The service.
    pub service: String,
    /// The SHA-256 thumbprint of the certificate it should have.
    pub desired: Option<String>,
    /// The SHA-256 thumbprint its files hold, as last reported.
    pub deployed: Option<String>,
    /// Where it stands.
    pub state: DeploymentState,
    /// When the last report came.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_report: Option<OffsetDateTime>,
    /// The last hook's result.
    pub hook: Option<HookResult>,
    /// The last check's result.
    pub check: Option<CheckResult>,
}

/// Where a service's deployment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// Deployed and checked.
    Current,
    /// The node is working on it (a newer revision was fetched).
    Updating,
    /// The node has an older certificate and has not started.
    Behind,
    /// The last attempt failed and was rolled back.
    Failed,
    /// No agent has reported for it.
    Unseen,
}
