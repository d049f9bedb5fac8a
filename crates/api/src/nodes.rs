//! What the administrator asks about nodes: enrolment tokens, the deployment state of
//! every node and service (`certfleet node token`, `certfleet nodes`, `/api/nodes`), the
//! CSRs nodes sent for an external CA and its replies (`certfleet node csrs`,
//! `certfleet node reply`), and revoking a node (`certfleet node revoke`).

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

/// `GET /api/platforms/{platform}/csrs`: the CSRs nodes sent for services of an external
/// CA, waiting for the CA's reply.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PendingCsrsAnswer {
    /// The platform.
    pub platform: String,
    /// The waiting CSRs, in model order.
    pub csrs: Vec<PendingCsr>,
}

/// One waiting CSR.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PendingCsr {
    /// The service.
    pub service: String,
    /// The node that made the key and sent the CSR.
    pub node: String,
    /// The CSR (PEM), for the external CA.
    pub csr_pem: String,
    /// Its subject, e.g. `CN=web.example.test`.
    pub subject: String,
    /// The SANs it asks for, e.g. `DNS:web.example.test`.
    pub sans: Vec<String>,
    /// When it came.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// `POST /api/platforms/{platform}/services/{service}/reply`: the external CA's reply to
/// a node's CSR.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CsrReply {
    /// The signed certificate (PEM), with the chain up to the root when the CA gave it.
    pub certificate_pem: String,
    /// More chain certificates (PEM), when the CA sent them apart.
    #[serde(default)]
    pub chain_pem: Option<String>,
}

/// An external CA's reply, checked against the node's CSR and kept: the service's node
/// deploys it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReplyImported {
    /// The platform.
    pub platform: String,
    /// The service.
    pub service: String,
    /// The node that deploys it.
    pub node: String,
    /// The leaf's SHA-256 thumbprint, lowercase hex.
    pub sha256: String,
    /// The leaf's subject.
    pub subject: String,
    /// How many chain certificates came with it (the leaf's issuer first).
    pub chain_length: usize,
    /// The leaf's expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// `DELETE /api/platforms/{platform}/nodes/{node}`: a node's enrolment removed; its agent's
/// identity is refused from now on, and it must enrol again with a new token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodeRevoked {
    /// The platform.
    pub platform: String,
    /// The node.
    pub node: String,
    /// When its agent had enrolled.
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: OffsetDateTime,
}
