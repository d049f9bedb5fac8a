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

/// How stale a node's recorded last contact may be: it is written again only once it
/// is older. With the agents' long polls of 25 s, the record is then at most 55 s
/// behind a node in contact, below the shortest `[agents] unseen_after` (60 s).
pub const LAST_SEEN_PRECISION: time::Duration = time::Duration::seconds(30);

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
/// and the configuration; its last contact is recorded (to [`LAST_SEEN_PRECISION`]).
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
/// records the contact when the recorded one is older than [`LAST_SEEN_PRECISION`].
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
    let Some(record) = record else {
        return Err(AgentError::forbidden(format!(
            "node {node} of platform {platform} is not enrolled (its enrolment was removed); enrol it again with a new token"
        )));
    };
    let now = time::OffsetDateTime::now_utc();
    if is_fresh(record.last_seen, now) {
        return Ok(());
    }
    agents
        .records
        .touch_node(platform, node, |record| {
            let stale = !is_fresh(record.last_seen, now);
            if stale {
                record.last_seen = Some(now);
            }
            stale
        })
        .await
        .map_err(AgentError::internal)?;
    Ok(())
}

/// Whether a node last seen at `last_seen` need not be recorded again at `now`: within
/// [`LAST_SEEN_PRECISION`], which keeps a waiting fleet from writing to the store on
/// every request.
fn is_fresh(last_seen: Option<time::OffsetDateTime>, now: time::OffsetDateTime) -> bool {
    last_seen.is_some_and(|seen| seen <= now && now - seen < LAST_SEEN_PRECISION)
}
