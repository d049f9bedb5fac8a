//! `certfleet renew SERVICE --platform NAME`: asks a running server to renew a service's
//! certificate now (its node, run by `certfleet agent`, makes a new key and deploys the
//! new certificate when its rollout group gives it a turn, in its maintenance window
//! unless `--now`).

use super::client::{admin_client, path_segment, ServerFlags};
use super::output::print_json;
use super::Outcome;
use anyhow::Result;
use certfleet_api::rollouts_text::renewal_asked_text;
use clap::Args;
use hyper::Method;

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
        let path = format!(
            "/api/platforms/{}/services/{}/renew{}",
            path_segment(&self.platform),
            path_segment(&self.service),
            if self.now { "?now=true" } else { "" }
        );
        let answer = client.send(Method::POST, &path, None)?.into_success()?;
        if self.json {
            print_json(&answer)?;
            return Ok(Outcome::Success);
        }
        print!("{}", renewal_asked_text(&answer, self.now));
        Ok(Outcome::Success)
    }
}
