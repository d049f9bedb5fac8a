//! The admin client's typed calls about the platforms a server runs (with the `client`
//! feature): the nodes and their enrolment tokens and revocations, the CSRs nodes sent for
//! an external CA and that CA's replies, renewals asked for and halted rollouts resumed.
//! Each gives the answer and the JSON as received, for `--json`.

use crate::client::{path_segment, AdminClient};
use crate::nodes::{CsrReply, NodeRevoked, PendingCsrsAnswer, ReplyImported};
use anyhow::{Context, Result};
use hyper::Method;
use serde_json::{json, Value};

/// `/api/platforms/{platform}`.
fn platform_path(platform: &str) -> String {
    format!("/api/platforms/{}", path_segment(platform))
}

/// `/api/platforms/{platform}/nodes/{node}`.
fn node_path(platform: &str, node: &str) -> String {
    format!("{}/nodes/{}", platform_path(platform), path_segment(node))
}

/// `/api/platforms/{platform}/services/{service}/renew`, with `?now=true` when asked.
fn renew_path(platform: &str, service: &str, now: bool) -> String {
    format!(
        "{}/services/{}/renew{}",
        platform_path(platform),
        path_segment(service),
        if now { "?now=true" } else { "" }
    )
}

impl AdminClient {
    /// `GET /api/nodes`.
    pub fn nodes(&self) -> Result<Value> {
        self.get("/api/nodes")?.into_success()
    }

    /// `POST /api/platforms/{platform}/nodes/{node}/tokens`: a single-use enrolment token
    /// valid for `ttl_seconds`.
    pub fn node_token(&self, platform: &str, node: &str, ttl_seconds: u64) -> Result<Value> {
        let path = format!("{}/tokens", node_path(platform, node));
        let body = json!({ "ttl_seconds": ttl_seconds });
        self.send(Method::POST, &path, Some(&body))?.into_success()
    }

    /// `DELETE /api/platforms/{platform}/nodes/{node}`.
    pub fn revoke_node(&self, platform: &str, node: &str) -> Result<(NodeRevoked, Value)> {
        self.send(Method::DELETE, &node_path(platform, node), None)?
            .decode()
    }

    /// `GET /api/platforms/{platform}/csrs`.
    pub fn pending_csrs(&self, platform: &str) -> Result<(PendingCsrsAnswer, Value)> {
        self.get(&format!("{}/csrs", platform_path(platform)))?
            .decode()
    }

    /// `POST /api/platforms/{platform}/services/{service}/reply`.
    pub fn import_reply(
        &self,
        platform: &str,
        service: &str,
        reply: &CsrReply,
    ) -> Result<(ReplyImported, Value)> {
        let path = format!(
            "{}/services/{}/reply",
            platform_path(platform),
            path_segment(service)
        );
        let body = serde_json::to_value(reply).context("encoding the request")?;
        self.send(Method::POST, &path, Some(&body))?.decode()
    }

    /// `POST /api/platforms/{platform}/services/{service}/renew[?now=true]`.
    pub fn renew_service(&self, platform: &str, service: &str, now: bool) -> Result<Value> {
        self.send(Method::POST, &renew_path(platform, service, now), None)?
            .into_success()
    }

    /// `POST /api/platforms/{platform}/rollouts/{group}/resume`.
    pub fn resume_rollout(&self, platform: &str, group: &str) -> Result<Value> {
        let path = format!(
            "{}/rollouts/{}/resume",
            platform_path(platform),
            path_segment(group)
        );
        self.send(Method::POST, &path, None)?.into_success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_escape_each_name() {
        assert_eq!(
            node_path("qms", "node 1"),
            "/api/platforms/qms/nodes/node%201"
        );
        assert_eq!(
            renew_path("qms", "web", false),
            "/api/platforms/qms/services/web/renew"
        );
        assert_eq!(
            renew_path("qms", "web", true),
            "/api/platforms/qms/services/web/renew?now=true"
        );
    }
}
