//! `certfleet node token NODE --platform NAME`: a single-use enrolment token for the
//! agent of one node of a configured platform, made by a running server (its admin API).
//! The token goes to standard output alone, so a script can take it; its expiry goes to
//! standard error. `--json` prints the server's answer.
//!
//! `certfleet node revoke NODE --platform NAME` removes a node's enrolment: its agent is
//! refused from then on. `node csrs` and `node reply` are [`super::node_csrs`]'s.

use super::client::{admin_client, ServerFlags};
use super::node_csrs::{CsrsArgs, ReplyArgs};
use super::output::{print_answer, print_json};
use super::Outcome;
use anyhow::Result;
use certfleet_api::nodes_text::{token_notice_text, token_text};
use clap::{Args, Subcommand};

/// `certfleet node`.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Make a single-use enrolment token for a node's agent (`certfleet agent enroll`).
    #[command(
        after_help = "Example:\n  certfleet node token node-1 --platform qms --ttl 600 --data-dir ./certfleet-data"
    )]
    Token(TokenArgs),
    /// Revoke a node's agent: its enrolment is removed and its identity refused.
    #[command(
        after_help = "Example:\n  certfleet node revoke node-1 --platform qms --data-dir ./certfleet-data"
    )]
    Revoke(RevokeArgs),
    /// List the CSRs nodes sent for services of an external CA, or write them out.
    #[command(
        after_help = "Example:\n  certfleet node csrs --platform qms --out ./to-sign --data-dir ./certfleet-data"
    )]
    Csrs(CsrsArgs),
    /// Import an external CA's reply to a node's CSR; the node deploys it.
    #[command(
        after_help = "Example:\n  certfleet node reply web --platform qms --cert web.crt --data-dir ./certfleet-data"
    )]
    Reply(ReplyArgs),
}

/// `certfleet node revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The node, enrolled on the server.
    #[arg(value_name = "NODE")]
    node: String,
    /// The platform: its model's `[platform]` name, configured on the server.
    #[arg(long, value_name = "NAME")]
    platform: String,
    #[command(flatten)]
    server: ServerFlags,
    /// Print the server's JSON answer.
    #[arg(long)]
    json: bool,
}

/// `certfleet node token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The node, a `[[node]]` of the platform's model.
    #[arg(value_name = "NODE")]
    node: String,
    /// The platform: its model's `[platform]` name, configured on the server.
    #[arg(long, value_name = "NAME")]
    platform: String,
    /// How long the token stays valid, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    ttl: u64,
    #[command(flatten)]
    server: ServerFlags,
    /// Print the server's JSON answer.
    #[arg(long)]
    json: bool,
}

impl NodeCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<Outcome> {
        match self {
            NodeCommand::Token(args) => args.run(),
            NodeCommand::Revoke(args) => args.run(),
            NodeCommand::Csrs(args) => args.run(),
            NodeCommand::Reply(args) => args.run(),
        }
    }
}

impl TokenArgs {
    fn run(self) -> Result<Outcome> {
        let client = admin_client(&self.server)?;
        let answer = client.node_token(&self.platform, &self.node, self.ttl)?;
        if self.json {
            print_json(&answer)?;
            return Ok(Outcome::Success);
        }
        println!("{}", token_text(&answer));
        eprintln!("{}", token_notice_text(&answer));
        Ok(Outcome::Success)
    }
}

impl RevokeArgs {
    fn run(self) -> Result<Outcome> {
        let client = admin_client(&self.server)?;
        let (answer, raw) = client.revoke_node(&self.platform, &self.node)?;
        print_answer(self.json, &raw, || answer.revoked_text())?;
        Ok(Outcome::Success)
    }
}
