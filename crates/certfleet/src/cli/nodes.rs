//! `certfleet nodes`: every node of every platform the server manages, with each
//! service's deployment state, the certificate it should have and the one its files hold
//! (thumbprint prefixes), and when its agent was last seen. `--json` prints the server's
//! answer.

use super::client::{admin_client, ServerFlags};
use super::output::print_answer;
use super::Outcome;
use anyhow::Result;
use certfleet_api::nodes_text::nodes_table_text;
use clap::Args;

/// `certfleet nodes`.
#[derive(Debug, Args)]
pub struct NodesArgs {
    #[command(flatten)]
    server: ServerFlags,
    /// Print the JSON document.
    #[arg(long)]
    json: bool,
}

impl NodesArgs {
    /// Asks the server and prints its answer.
    pub fn run(self) -> Result<Outcome> {
        let answer = admin_client(&self.server)?.nodes()?;
        print_answer(self.json, &answer, || nodes_table_text(&answer))?;
        Ok(Outcome::Success)
    }
}
