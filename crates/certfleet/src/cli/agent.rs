//! `certfleet agent`: the node agent (crate certfleet-agent). `enroll` once with a token
//! from `certfleet node token`, then `run` (as a service, or `--once` from a script);
//! `passwords` shows the keystore passwords the agent made on this node. Log lines go to
//! standard error; results to standard output.

use super::output::print_json;
use super::secret_arg::{SecretArg, SecretParser, ASK, MISSING};
use super::Outcome;
use anyhow::Result;
use certfleet_agent::config::AgentConfig;
use certfleet_agent::data_dir::{self, DataDir};
use certfleet_agent::enroll::{enroll, Token};
use certfleet_agent::passwords::Passwords;
use certfleet_agent::run::Agent;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `certfleet agent`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Enrol this node with the server, once, with a token from `certfleet node token`.
    #[command(
        after_help = "Example:\n  certfleet agent enroll --server https://certs.example.test:8444 --token file:/root/node-1.token --data-dir /var/lib/certfleet-agent"
    )]
    Enroll(EnrollArgs),
    /// Keep this node's certificates, keystores and trust stores as the server says.
    #[command(
        after_help = "Example:\n  certfleet agent run --data-dir /var/lib/certfleet-agent --config /etc/certfleet/agent.toml"
    )]
    Run(RunArgs),
    /// The keystore passwords the agent made on this node: service, path, password.
    #[command(
        after_help = "Example:\n  certfleet agent passwords --data-dir /var/lib/certfleet-agent"
    )]
    Passwords(PasswordsArgs),
}

/// The agent's data directory.
#[derive(Debug, Clone, Args)]
pub struct DataDirFlag {
    /// The agent's data directory (identity, keys, passwords, state; mode 0700).
    #[arg(long, value_name = "DIR", default_value = data_dir::DEFAULT)]
    data_dir: PathBuf,
}

/// `certfleet agent enroll`.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The server's agent listener, e.g. `https://certs.example.test:8444`.
    #[arg(long, value_name = "URL")]
    server: String,
    /// The enrolment token: VALUE, pass:VALUE, env:NAME, file:PATH or - (a line of
    /// standard input); asked for when given without a value, or left out on a terminal.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK, default_value = MISSING, hide_default_value = true)]
    token: SecretArg,
    #[command(flatten)]
    data: DataDirFlag,
}

/// `certfleet agent run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    data: DataDirFlag,
    /// The node's configuration (servers, hooks); default DATA_DIR/agent.toml when it
    /// exists.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// One pass over the current assignment, then exit: 0 when every service is
    /// current, 1 otherwise.
    #[arg(long)]
    once: bool,
}

/// `certfleet agent passwords`.
#[derive(Debug, Args)]
pub struct PasswordsArgs {
    #[command(flatten)]
    data: DataDirFlag,
    /// Print JSON: [{"service", "path", "password"}].
    #[arg(long)]
    json: bool,
}

impl AgentCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<Outcome> {
        super::logging::init()?;
        match self {
            AgentCommand::Enroll(args) => args.run(),
            AgentCommand::Run(args) => args.run(),
            AgentCommand::Passwords(args) => args.run(),
        }
    }
}

impl EnrollArgs {
    fn run(self) -> Result<Outcome> {
        let token = Token::parse(self.token.expose()?)?;
        let data = DataDir::new(&self.data.data_dir);
        let enrollment = enroll(&data, &self.server, &token)?;
        println!(
            "enrolled node {} of platform {}; identity valid until {}; data in {}",
            enrollment.node,
            enrollment.platform,
            enrollment.not_after,
            self.data.data_dir.display()
        );
        Ok(Outcome::Success)
    }
}

impl RunArgs {
    fn run(self) -> Result<Outcome> {
        let data = DataDir::new(&self.data.data_dir);
        let config = AgentConfig::load(&self.data.data_dir, self.config.as_deref())?;
        let mut agent = Agent::new(data, config)?;
        if !self.once {
            agent.forever()?;
            return Ok(Outcome::Success);
        }
        let pass = agent.once()?;
        print!("{}", pass.to_text());
        Ok(if pass.all_current() {
            Outcome::Success
        } else {
            Outcome::ProblemFound
        })
    }
}

impl PasswordsArgs {
    fn run(self) -> Result<Outcome> {
        let data = DataDir::new(&self.data.data_dir);
        let passwords = Passwords::load(&data.passwords_file())?;
        if self.json {
            print_json(&passwords.shown())?;
        } else {
            print!("{}", passwords.to_text().as_str());
        }
        Ok(Outcome::Success)
    }
}
