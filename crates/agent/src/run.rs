//! The agent's loop: ask for the node's assignment (a long poll with the revision last
//! acted on, so the server answers as soon as something changes), deploy each service,
//! report, remember the revision in `state.json`, and ask again. After a start the agent
//! first makes one pass over the current assignment (which changes nothing on a node that
//! is as it should be), then waits from the revision it acted on. When the server cannot
//! be reached, or a service is not current yet, the agent waits with an exponential
//! back-off and leaves the node's files as they are.

use crate::backoff::Backoff;
use crate::check;
use crate::client::AgentClient;
use crate::config::{AgentConfig, FILE_NAME};
use crate::data_dir::DataDir;
use crate::deploy::{outcome_name, Deployer};
use crate::error::{AgentError, Result};
use crate::passwords::Passwords;
use certfleet_api::agent::{Assignment, DeploymentOutcome, DeploymentReport};
use certfleet_platform::paths::Layout;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The wait between passes when the server answers at once although nothing changed
/// (it does not hold the long poll), unless `poll_seconds` says otherwise.
pub const DEFAULT_POLL: Duration = Duration::from_secs(60);

/// An answer quicker than this with nothing new means the long poll was not held.
const HELD: Duration = Duration::from_secs(1);

/// What one pass over an assignment did.
#[derive(Debug, Clone)]
pub struct Pass {
    /// The revision acted on.
    pub revision: u64,
    /// The reports, one per service, in assignment order.
    pub reports: Vec<DeploymentReport>,
}

impl Pass {
    /// True when every service is current.
    pub fn all_current(&self) -> bool {
        self.reports
            .iter()
            .all(|r| r.outcome == DeploymentOutcome::Current)
    }

    /// One line per service, as `certfleet agent run --once` prints it: the service, its
    /// outcome, the deployed certificate's SHA-256 and the error, when there are some.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for report in &self.reports {
            text += &format!("{} {}", report.service, outcome_name(report.outcome));
            if let Some(thumbprint) = &report.thumbprint {
                text += &format!(" sha256={thumbprint}");
            }
            if let Some(error) = &report.error {
                text += &format!(": {error}");
            }
            text.push('\n');
        }
        text
    }
}

/// The running agent.
pub struct Agent {
    data: DataDir,
    config: AgentConfig,
    client: AgentClient,
    layout: Layout,
}

impl Agent {
    /// The agent of data directory `data` with `config`.
    pub fn new(data: DataDir, config: AgentConfig) -> Result<Self> {
        let client = AgentClient::new(&data, &config)?;
        let cwd = std::env::current_dir().map_err(|e| AgentError::io(&PathBuf::from("."), &e))?;
        let layout = Layout::new(
            &data.root().join(FILE_NAME),
            config.root.as_deref(),
            &client.enrollment().platform,
            &cwd,
        );
        Ok(Agent {
            data,
            config,
            client,
            layout,
        })
    }

    /// Renews the identity when it is due; a failure is logged, the old one is still
    /// valid for a while.
    fn renew_identity(&mut self) {
        let now = time::OffsetDateTime::now_utc();
        if let Err(e) = self.client.renew_identity_if_due(now) {
            let not_after = self.client.enrollment().not_after;
            if now >= not_after {
                tracing::error!(
                    error = %e,
                    %not_after,
                    "the agent's identity has expired; enrol the node again with a new token (certfleet node token, certfleet agent enroll)"
                );
            } else {
                tracing::warn!(error = %e, "cannot renew the agent's identity yet");
            }
        }
    }

    /// One pass: the current assignment, every service deployed and reported.
    pub fn once(&mut self) -> Result<Pass> {
        self.renew_identity();
        let assignment = self.client.assignment(None)?;
        self.apply(&assignment)
    }

    /// Deploys every service of `assignment` and reports each.
    pub fn apply(&mut self, assignment: &Assignment) -> Result<Pass> {
        let mut state = self.data.state()?;
        let mut passwords = Passwords::load(&self.data.passwords_file())?;
        let deployer = Deployer {
            data: &self.data,
            config: &self.config,
            client: &self.client,
            layout: &self.layout,
            check_patience: check::PATIENCE,
        };
        let mut reports = Vec::with_capacity(assignment.services.len());
        for service in &assignment.services {
            let report = deployer.service(assignment.revision, service, &mut state, &mut passwords);
            if let Err(e) = self.client.report(&report) {
                tracing::warn!(service = %service.service, error = %e, "cannot send the report");
            }
            reports.push(report);
        }
        state.revision = Some(assignment.revision);
        self.data.save_state(&state)?;
        Ok(Pass {
            revision: assignment.revision,
            reports,
        })
    }

    /// Runs until the process ends.
    pub fn forever(&mut self) -> Result<()> {
        let mut backoff = Backoff::default();
        // Whether the last pass left every service current: only then does the agent
        // wait for a new revision; otherwise it tries again after a back-off.
        let mut settled = false;
        let poll = self
            .config
            .poll_seconds
            .map_or(DEFAULT_POLL, Duration::from_secs);
        loop {
            self.renew_identity();
            let last = self.data.state()?.revision;
            let after = if settled { last } else { None };
            let asked = Instant::now();
            let assignment = match self.client.assignment(after) {
                Ok(assignment) => assignment,
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "no assignment");
                    std::thread::sleep(delay);
                    continue;
                }
            };
            if settled && Some(assignment.revision) == last {
                backoff.reset();
                if asked.elapsed() < HELD {
                    std::thread::sleep(poll);
                }
                continue;
            }
            let pass = match self.apply(&assignment) {
                Ok(pass) => pass,
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::error!(error = %e, retry_in_ms = delay.as_millis() as u64, "the pass failed");
                    settled = false;
                    std::thread::sleep(delay);
                    continue;
                }
            };
            settled = pass.all_current();
            if settled {
                backoff.reset();
            } else {
                let delay = backoff.next_delay();
                tracing::info!(
                    retry_in_ms = delay.as_millis() as u64,
                    "not every service is current; trying again"
                );
                std::thread::sleep(delay);
            }
        }
    }
}
