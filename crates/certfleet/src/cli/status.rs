//! `certfleet status`: every certificate a running server manages with its expiry state
//! (`ok`, `warning`, `expired`), and the ACME progress of each domain with ACME on.
//! `--json` prints the server's answer unchanged.

use super::client::{AdminClient, ServerFlags};
use super::output::print_json;
use super::Outcome;
use anyhow::Result;
use clap::Args;
use serde_json::Value;

/// `certfleet status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    server: ServerFlags,
    /// Print the JSON document.
    #[arg(long)]
    json: bool,
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("-")
}

impl StatusArgs {
    /// Asks the server and prints its answer.
    pub fn run(self) -> Result<Outcome> {
        let client = AdminClient::new(&self.server)?;
        let status = client.get("/api/status")?.into_success()?;
        if self.json {
            print_json(&status)?;
            return Ok(Outcome::Success);
        }
        let empty = Vec::new();
        println!("STATE    DAYS  NOT AFTER             SHA-1                                     USED BY / SUBJECT");
        for cert in status["certificates"].as_array().unwrap_or(&empty) {
            println!(
                "{:<8} {:>5}  {:<21} {:<41} {} / {}",
                text(cert, "state"),
                cert["days_remaining"].as_i64().unwrap_or_default(),
                text(cert, "not_after"),
                text(cert, "sha1_thumbprint"),
                text(cert, "used_by"),
                text(cert, "subject"),
            );
        }
        for acme in status["acme"].as_array().unwrap_or(&empty) {
            let failures = acme["failures"].as_u64().unwrap_or_default();
            if failures == 0 {
                println!(
                    "ACME {}: ok, renews at {}",
                    text(acme, "domain"),
                    text(acme, "renew_at")
                );
            } else {
                println!(
                    "ACME {}: {failures} failed attempt(s), last: {}; next attempt at {}",
                    text(acme, "domain"),
                    text(acme, "last_error"),
                    text(acme, "next_attempt")
                );
            }
        }
        Ok(Outcome::Success)
    }
}
