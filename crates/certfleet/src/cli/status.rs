//! `certfleet status`: every certificate a running server manages with its expiry state
//! (`ok`, `warning`, `expired`), and the ACME progress of each domain with ACME on.
//! `--json` prints the server's answer unchanged. Like every check, it exits 1 when it
//! found a problem: a certificate expired or in its warning window.

use super::client::{admin_client, ServerFlags};
use super::output::print_json;
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
        if self.json {
            print_json(&json)?;
            return Ok(outcome);
        }
        println!("STATE    DAYS  NOT AFTER             SHA-1                                     USED BY / SUBJECT");
        for cert in &status.certificates {
            println!(
                "{:<8} {:>5}  {:<21} {:<41} {} / {}",
                cert.state.as_str(),
                cert.days_remaining,
                cert.not_after,
                cert.sha1_thumbprint,
                cert.used_by,
                cert.subject,
            );
        }
        for acme in &status.acme {
            let or_dash = |text: &Option<String>| text.clone().unwrap_or_else(|| "-".to_owned());
            if acme.failures == 0 {
                println!(
                    "ACME {}: ok, renews at {}",
                    acme.domain,
                    or_dash(&acme.renew_at)
                );
            } else {
                println!(
                    "ACME {}: {} failed attempt(s), last: {}; next attempt at {}",
                    acme.domain,
                    acme.failures,
                    or_dash(&acme.last_error),
                    or_dash(&acme.next_attempt)
                );
            }
        }
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
