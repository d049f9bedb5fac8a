//! `certfleet status`: every certificate a running server manages with its expiry state
//! (`ok`, `warning`, `expired`), and the ACME progress of each domain with ACME on.
//! `--json` prints the server's answer unchanged. Like every check, it exits 1 when it
//! found a problem: a certificate expired or in its warning window.

use super::client::{admin_client, ServerFlags};
use super::output::print_answer;
use super::Outcome;
use anyhow::Result;
use certfleet_api::admin::status::{ExpiryStateJson, StatusJson};
use clap::Args;

/// `certfleet status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    server: ServerFlags,
    /// Print the JSON document.
    #[arg(long)]
    json: bool,
}

impl StatusArgs {
    /// Asks the server and prints its answer.
    pub fn run(self) -> Result<Outcome> {
        let client = admin_client(&self.server)?;
        let (status, json) = client.get("/api/status")?.decode::<StatusJson>()?;
        let outcome = outcome(&status);
        print_answer(self.json, &json, || status.to_text())?;
        Ok(outcome)
    }
}

/// [`Outcome::ProblemFound`] when a certificate is expired or in its warning window.
fn outcome(status: &StatusJson) -> Outcome {
    let problem = status
        .certificates
        .iter()
        .any(|cert| cert.state != ExpiryStateJson::Ok);
    if problem {
        Outcome::ProblemFound
    } else {
        Outcome::Success
    }
}
