//! Who is asking: every agent route but enrolment needs an agent identity, read from the
//! client certificate the handshake verified against the agents CA. The identity names
//! one node of one platform; the node must still be enrolled (deleting its record in
//! the store revokes it) and its platform still configured. Handlers then refuse, with
//! 403, anything about a service that does not run on that node.

use super::errors::AgentError;
use super::identity::{self, AgentIdentity};
use super::listener::PeerChain;
use super::Agents;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rustls_pki_types::CertificateDer;
use std::sync::Arc;

/// Lets a request with a valid, enrolled agent identity through, with the
/// [`AgentIdentity`] in its extensions; 401 or 403 otherwise.
pub async fn require_identity(
    State(agents): State<Arc<Agents>>,
    mut request: Request,
    next: Next,
) -> Response {
    let leaf = request
        .extensions()
        .get::<PeerChain>()
        .and_then(|chain| chain.0.as_ref())
        .and_then(|chain| chain.first())
        .cloned();
    match identify(&agents, leaf.as_ref()).await {
        Ok(identity) => {
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        Err(err) => err.into_response(),
    }
}

/// The identity of the request's client certificate (`leaf`), checked against the store
/// and the configuration; its last contact is recorded.
pub async fn identify(
    agents: &Agents,
    leaf: Option<&CertificateDer<'static>>,
) -> Result<AgentIdentity, AgentError> {
    let leaf = leaf.ok_or_else(|| {
        AgentError::unauthorized(
            "an agent identity is required: connect with the client certificate from enrolment",
        )
    })?;
    let identity = identity::of_certificate(leaf.as_ref()).map_err(AgentError::unauthorized)?;
    authorise(agents, &identity).await?;
    Ok(identity)
}

/// Checks that `identity`'s platform is configured and its node still enrolled, and
/// records the contact.
pub async fn authorise(agents: &Agents, identity: &AgentIdentity) -> Result<(), AgentError> {
    let AgentIdentity { platform, node } = identity;
    if !agents
        .app
        .config
        .platforms
        .iter()
        .any(|p| &p.name == platform)
    {
        return Err(AgentError::forbidden(format!(
            "platform {platform} is no longer configured on this server"
        )));
    }
    let record = agents
        .records
        .node(platform, node)
        .await
        .map_err(AgentError::internal)?;
    if record.is_none() {
        return Err(AgentError::forbidden(format!(
            "node {node} of platform {platform} is not enrolled (its enrolment was removed); enrol it again with a new token"
        )));
    }
    let now = time::OffsetDateTime::now_utc();
    agents
        .records
        .touch_node(platform, node, |record| record.last_seen = Some(now))
        .await
        .map_err(AgentError::internal)?;
    Ok(())
}
