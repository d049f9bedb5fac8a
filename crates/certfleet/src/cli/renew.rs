//! `certfleet renew SERVICE --platform NAME`: asks a running server to renew a service's
//! certificate now (its node, run by `certfleet agent`, makes a new key and deploys the
//! new certificate when its rollout group gives it a turn, in its maintenance window
//! unless `--now`).

use super::client::{admin_client, ServerFlags};
use super::output::print_answer;
use super::Outcome;
use anyhow::Result;
use certfleet_api::rollouts_text::renewal_asked_text;
use clap::Args;

/// `certfleet renew`.
#[derive(Debug, Args)]
pub struct RenewArgs {
    /// The service, a `[[service]]` of the platform's model.
    #[arg(value_name = "SERVICE")]
    service: String,
    /// The platform: its model's `[platform]` name, configured on the server.
    #[arg(long, value_name = "NAME")]
    platform: String,
    /// Renew without waiting for the service's maintenance window.
    #[arg(long)]
    now: bool,
    #[command(flatten)]
    server: ServerFlags,
    /// Print the server's JSON answer.
    #[arg(long)]
    json: bool,
}

impl RenewArgs {
    /// Runs the command.
    pub fn run(self) -> Result<Outcome> {
        let client = admin_client(&self.server)?;
        let answer = client.renew_service(&self.platform, &self.service, self.now)?;
        print_answer(self.json, &answer, || renewal_asked_text(&answer, self.now))?;
        Ok(Outcome::Success)
    }
}
