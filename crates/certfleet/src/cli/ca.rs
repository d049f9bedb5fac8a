//! `certfleet ca init`: a root CA, optionally with an issuing intermediate, written to a
//! directory; the server's CAs are [`super::ca_server`]'s.

use super::ca_server;
use super::output::{report_written, KeyChoice};
use super::subject_args::SubjectArgs;
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_pki::authority::init_ca_with_subject;
use certfleet_platform::ca_dir::write_ca_dir;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Certificate authority commands: `init` makes one in a directory (offline); the others
/// work with the CAs a running server keeps.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create a root CA (and optionally an intermediate that issues everything).
    #[command(
        after_help = "Example:\n  certfleet ca init --out ca --cn \"Example Root CA\" --intermediate-cn \"Example Issuing CA\" --org \"Example Corp\" --country US"
    )]
    Init(InitArgs),
    /// List the server's CAs.
    #[command(after_help = "Example:\n  certfleet ca list --json")]
    List(ca_server::ListArgs),
    /// Show one of the server's CAs: subject, key, validity, thumbprints, what it issued.
    #[command(after_help = "Example:\n  certfleet ca show internal")]
    Show(ca_server::ShowArgs),
    /// Make a CA on the server (its keys stay there, sealed in its store).
    #[command(
        after_help = "Examples:\n  certfleet ca create internal --cn \"Example Internal CA\" --org \"Example Corp\" --country US\n  certfleet ca create lab --key ecdsa-p384 --days 1825 --intermediate-cn \"Lab Issuing CA\" --allowed-domain lab.example.test"
    )]
    Create(ca_server::CreateArgs),
    /// Sign a CSR with one of the server's CAs; writes the certificate and its chain.
    #[command(
        after_help = "Example:\n  certfleet ca sign internal --csr web.csr --days 90 --out web.crt"
    )]
    Sign(ca_server::SignArgs),
    /// Issue a server domain's certificate from one of the server's CAs; it is served at
    /// once and renewed automatically two thirds into its lifetime.
    #[command(
        after_help = "Examples:\n  certfleet ca issue internal --domain shop.example.test --days 90\n  certfleet ca issue internal --domain shop.example.test --key rsa2048 --usage both\n\nA certificate uploaded later with `domain set-cert` ends the automatic renewal."
    )]
    Issue(ca_server::IssueArgs),
}

/// Arguments of `ca init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the CA in (root.crt, root.key, intermediate.crt, intermediate.key).
    #[arg(long)]
    out: PathBuf,
    /// Common name of the root.
    #[arg(long)]
    cn: String,
    #[command(flatten)]
    subject: SubjectArgs,
    #[command(flatten)]
    key: KeyChoice,
    /// Validity in days.
    #[arg(long, default_value_t = 3650)]
    days: u32,
    /// Also create an intermediate (issuing) CA with this common name.
    #[arg(long)]
    intermediate_cn: Option<String>,
}

impl CaCommand {
    pub fn run(self) -> Result<Outcome> {
        match self {
            CaCommand::Init(args) => args.run(),
            CaCommand::List(args) => args.run().map(|()| Outcome::Success),
            CaCommand::Show(args) => args.run().map(|()| Outcome::Success),
            CaCommand::Create(args) => args.run().map(|()| Outcome::Success),
            CaCommand::Sign(args) => args.run().map(|()| Outcome::Success),
            CaCommand::Issue(args) => args.run().map(|()| Outcome::Success),
        }
    }
}

impl InitArgs {
    fn run(self) -> Result<Outcome> {
        let algorithm = self.key.algorithm()?;
        if !self.out.exists() {
            std::fs::create_dir_all(&self.out)
                .with_context(|| format!("{}: cannot create the directory", self.out.display()))?;
        }
        let ca = init_ca_with_subject(
            &self.cn,
            &self.subject.attributes(),
            algorithm,
            self.days,
            self.intermediate_cn.as_deref(),
        )?;
        report_written(&write_ca_dir(&self.out, &ca)?);
        Ok(Outcome::Success)
    }
}
