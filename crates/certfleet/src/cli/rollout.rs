//! `certfleet rollout resume GROUP --platform NAME`: lets a staged rollout go on after a
//! node's failed deployment halted its service group (on a running server).

use super::client::{admin_client, ServerFlags};
use super::output::print_answer;
use super::Outcome;
use anyhow::Result;
use certfleet_api::rollouts_text::resumed_text;
use clap::{Args, Subcommand};

/// `certfleet rollout`.
#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Let a halted rollout group go on: the failed service's turn ends, the next
    /// service gets its turn.
    #[command(
        after_help = "Example:\n  certfleet rollout resume nginx --platform qms --data-dir ./certfleet-data"
    )]
    Resume(ResumeArgs),
}

/// `certfleet rollout resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The rollout group: a service's `group`, else its `kind`, else its name.
    #[arg(value_name = "GROUP")]
    group: String,
    /// The platform: its model's `[platform]` name, configured on the server.
    #[arg(long, value_name = "NAME")]
    platform: String,
    #[command(flatten)]
    server: ServerFlags,
    /// Print the server's JSON answer.
    #[arg(long)]
    json: bool,
}

impl RolloutCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<Outcome> {
        match self {
            RolloutCommand::Resume(args) => args.run(),
        }
    }
}

impl ResumeArgs {
    fn run(self) -> Result<Outcome> {
        let client = admin_client(&self.server)?;
        let answer = client.resume_rollout(&self.platform, &self.group)?;
        print_answer(self.json, &answer, || resumed_text(&answer))?;
        Ok(Outcome::Success)
    }
}
