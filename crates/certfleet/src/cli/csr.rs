//! `certfleet csr new` and `certfleet csr sign`.

use super::output::{report_written, usage, KeyChoice};
use super::subject_args::SubjectArgs;
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_pki::certs::to_pem;
use certfleet_pki::csr::{new_csr_with_subject, sign_csr, SigningPolicy};
use certfleet_pki::profile::DEFAULT_LEAF_DAYS;
use certfleet_platform::ca_dir::load_issuing_ca;
use certfleet_platform::files::{Mode, OutputSet};
use certfleet_platform::leaf_files::{write_csr_files, KeyFiles};
use certfleet_platform::pki_files::read_request;
use clap::{Args, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;

/// CSR commands.
#[derive(Debug, Subcommand)]
pub enum CsrCommand {
    /// Make a new key and a CSR for it.
    #[command(
        after_help = "Examples:\n  certfleet csr new --cn web.example.test --san www.example.test --out web\n  certfleet csr new --cn web.example.test --no-san --out web   # the CA chooses the SANs"
    )]
    New(NewArgs),
    /// Sign a CSR with a CA under a policy.
    #[command(
        after_help = "Example:\n  certfleet csr sign --ca ca --csr web.csr --usage server --days 365 --allow-domain example.test --out web.crt"
    )]
    Sign(SignArgs),
}

/// Arguments of `csr new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Common name; also a SAN unless --no-san.
    #[arg(long)]
    cn: String,
    /// Extra DNS name (repeatable).
    #[arg(long = "san")]
    sans: Vec<String>,
    /// IP address (repeatable).
    #[arg(long = "ip")]
    ips: Vec<IpAddr>,
    /// Make a CSR without any SAN extension, so the CA chooses the names.
    #[arg(long, conflicts_with_all = ["sans", "ips"])]
    no_san: bool,
    #[command(flatten)]
    subject: SubjectArgs,
    #[command(flatten)]
    key: KeyChoice,
    /// Output prefix: PREFIX.key and PREFIX.csr.
    #[arg(long)]
    out: PathBuf,
    /// Overwrite an existing PREFIX.key (the key in it is lost).
    #[arg(long)]
    force: bool,
}

/// Arguments of `csr sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// CA directory made by `ca init`.
    #[arg(long)]
    ca: PathBuf,
    /// The CSR to sign (PEM or DER).
    #[arg(long)]
    csr: PathBuf,
    /// server, client or both.
    #[arg(long, default_value = "server")]
    usage: String,
    /// Validity in days (never past the CA's own expiry).
    #[arg(long, default_value_t = DEFAULT_LEAF_DAYS)]
    days: u32,
    /// Policy: only names in this domain or below (repeatable; default any name).
    #[arg(long = "allow-domain")]
    allow_domains: Vec<String>,
    /// Policy: the longest validity granted, in days.
    #[arg(long)]
    max_days: Option<u32>,
    /// Policy: refuse client-authentication certificates.
    #[arg(long)]
    server_only: bool,
    /// Output file: the signed certificate followed by the CA chain.
    #[arg(long)]
    out: PathBuf,
}

impl CsrCommand {
    pub fn run(self) -> Result<Outcome> {
        match self {
            CsrCommand::New(args) => args.run(),
            CsrCommand::Sign(args) => args.run(),
        }
    }
}

impl NewArgs {
    fn run(self) -> Result<Outcome> {
        let algorithm = self.key.algorithm()?;
        let made = new_csr_with_subject(
            &self.cn,
            &self.subject.attributes(),
            &self.sans,
            &self.ips,
            self.no_san,
            algorithm,
        )?;
        let key_files = KeyFiles::replacing_when(self.force);
        report_written(&write_csr_files(&self.out, &made, key_files)?);
        Ok(Outcome::Success)
    }
}

impl SignArgs {
    fn run(self) -> Result<Outcome> {
        let authority = load_issuing_ca(&self.ca)?;
        let csr = read_request(&self.csr)?;
        let policy = SigningPolicy {
            allowed_domains: self.allow_domains,
            max_days: self.max_days,
            deny_client: self.server_only,
        };
        let cert = sign_csr(&authority, &csr, usage(&self.usage)?, self.days, &policy)
            .with_context(|| self.csr.display().to_string())?;
        let mut all = vec![cert];
        all.extend(authority.issuing_chain());
        let mut set = OutputSet::default();
        set.add(&self.out, to_pem(&all), Mode::Public);
        report_written(&set.commit()?);
        Ok(Outcome::Success)
    }
}
