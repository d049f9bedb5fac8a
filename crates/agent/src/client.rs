//! The agent's client of the server: mutual TLS with its identity, trusting exactly the
//! agents CA, the servers tried in order (the configuration's, else the enrolment's); the
//! requests of the agent protocol with the wire types of `certfleet_api::agent`; and the
//! identity's renewal once its `renew_after` has passed.

use crate::config::AgentConfig;
use crate::data_dir::{DataDir, Enrollment};
use crate::error::Result;
use crate::transport::{Transport, REQUEST_TIMEOUT};
use crate::{identity, material};
use certfleet_api::agent::{
    Assignment, CertificateRequest, CertificateState, DeploymentReport, Identity, IdentityRenewal,
    ASSIGNMENT_WAIT_SECONDS, PREFIX,
};
use hyper::Method;
use std::time::Duration;
use time::OffsetDateTime;

/// How much longer than the server's hold the agent waits for a long-poll answer.
const LONG_POLL_MARGIN: Duration = Duration::from_secs(30);

/// A client for the agent protocol.
pub struct AgentClient {
    data: DataDir,
    enrollment: Enrollment,
    servers: Vec<String>,
    transport: Transport,
}

impl AgentClient {
    /// A client from the enrolment in `data`, with `config`'s servers when it names any.
    pub fn new(data: &DataDir, config: &AgentConfig) -> Result<Self> {
        let enrollment = data.enrollment()?;
        let servers = if config.servers.is_empty() {
            enrollment.servers.clone()
        } else {
            config.servers.clone()
        };
        let transport = Transport::new(&servers, identity::tls_config(data)?)?;
        Ok(AgentClient {
            data: data.clone(),
            enrollment,
            servers,
            transport,
        })
    }

    /// The enrolment (platform, node, identity dates).
    pub fn enrollment(&self) -> &Enrollment {
        &self.enrollment
    }

    /// The node's assignment. With `after`, the server holds the request until the
    /// assignment's revision differs from it (or its wait ends).
    pub fn assignment(&self, after: Option<u64>) -> Result<Assignment> {
        let (path, timeout) = match after {
            Some(revision) => (
                format!("{PREFIX}/assignment?after={revision}"),
                Duration::from_secs(ASSIGNMENT_WAIT_SECONDS) + LONG_POLL_MARGIN,
            ),
            None => (format!("{PREFIX}/assignment"), REQUEST_TIMEOUT),
        };
        self.transport
            .call::<(), Assignment>(Method::GET, &path, None, timeout)
    }

    /// Sends a CSR for a service's key (or the certificate the node signed for a
    /// self-signed service); the answer is the certificate's new state.
    pub fn request_certificate(&self, request: CertificateRequest) -> Result<CertificateState> {
        self.transport.call(
            Method::POST,
            &format!("{PREFIX}/certificates"),
            Some(&request),
            REQUEST_TIMEOUT,
        )
    }

    /// Sends what was done for one service.
    pub fn report(&self, report: &DeploymentReport) -> Result<()> {
        self.transport
            .call_no_answer(Method::POST, &format!("{PREFIX}/reports"), Some(report))
    }

    /// Asks for a new identity (with a new key) when `now` is past `renew_after`; true
    /// when it was renewed.
    pub fn renew_identity_if_due(&mut self, now: OffsetDateTime) -> Result<bool> {
        if now < self.enrollment.renew_after {
            return Ok(false);
        }
        let key = identity::new_key()?;
        let request = IdentityRenewal {
            csr_pem: material::csr_pem(identity::CSR_NAME, &key)?,
        };
        let answer: Identity = self.transport.call(
            Method::POST,
            &format!("{PREFIX}/identity"),
            Some(&request),
            REQUEST_TIMEOUT,
        )?;
        self.enrollment =
            identity::save(&self.data, &key, &answer, self.enrollment.servers.clone())?;
        self.transport.set_tls(identity::tls_config(&self.data)?);
        tracing::info!(not_after = %answer.not_after, "identity renewed");
        Ok(true)
    }

    /// The servers tried, in order.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }
}
