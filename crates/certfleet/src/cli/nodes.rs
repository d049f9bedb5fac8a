//! `certfleet nodes`: every node of every platform the server manages, with each
//! service's deployment state, the certificate it should have and the one its files hold
//! (thumbprint prefixes), and when its agent was last seen. `--json` prints the server's
//! answer.

use super::client::{admin_client, ServerFlags};
use super::output::print_json;
use super::Outcome;
use anyhow::Result;
use clap::Args;
use serde_json::Value;

/// How many hex digits of a thumbprint the table shows.
const PREFIX_LEN: usize = 12;

/// `certfleet nodes`.
#[derive(Debug, Args)]
pub struct NodesArgs {
    #[command(flatten)]
    server: ServerFlags,
    /// Print the JSON document.
    #[arg(long)]
    json: bool,
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("-")
}

fn prefix(value: &Value, key: &str) -> String {
    text(value, key).chars().take(PREFIX_LEN).collect()
}

impl NodesArgs {
    /// Asks the server and prints its answer.
    pub fn run(self) -> Result<Outcome> {
        let client = admin_client(&self.server)?;
        let answer = client.get("/api/nodes")?.into_success()?;
        if self.json {
            print_json(&answer)?;
            return Ok(Outcome::Success);
        }
        let empty = Vec::new();
        println!(
            "{:<14} {:<16} {:<18} {:<9} {:<13} {:<13} LAST SEEN",
            "PLATFORM", "NODE", "SERVICE", "STATE", "DESIRED", "DEPLOYED"
        );
        for node in answer["nodes"].as_array().unwrap_or(&empty) {
            let seen = if node["enrolled"].as_bool().unwrap_or(false) {
                text(node, "last_seen")
            } else {
                "not enrolled"
            };
            let services = node["services"].as_array().unwrap_or(&empty);
            if services.is_empty() {
                println!(
                    "{:<14} {:<16} {:<18} {:<9} {:<13} {:<13} {seen}",
                    text(node, "platform"),
                    text(node, "node"),
                    "-",
                    "-",
                    "-",
                    "-"
                );
            }
            for service in services {
                println!(
                    "{:<14} {:<16} {:<18} {:<9} {:<13} {:<13} {seen}",
                    text(node, "platform"),
                    text(node, "node"),
                    text(service, "service"),
                    text(service, "state"),
                    prefix(service, "desired"),
                    prefix(service, "deployed"),
                );
            }
        }
        Ok(Outcome::Success)
    }
}
