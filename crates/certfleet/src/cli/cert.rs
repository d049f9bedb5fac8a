//! `certfleet cert issue` and `certfleet cert import`.

use super::output::{report_written, usage, KeyChoice};
use super::subject_args::SubjectArgs;
use super::Outcome;
use anyhow::{bail, Result};
use certfleet_pki::import::check_reply;
use certfleet_pki::issue::{issue_leaf_with_subject, LeafRequest};
use certfleet_pki::keys::PrivateKey;
use certfleet_pki::profile::DEFAULT_LEAF_DAYS;
use certfleet_platform::ca_dir::load_issuing_ca;
use certfleet_platform::leaf_files::{write_leaf_files, KeyFiles};
use certfleet_platform::pki_files::{
    read_certificates, read_private_key, read_request, sibling_key_of_csr,
};
use clap::{Args, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;

/// Certificate commands.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Issue a leaf certificate with a new key, signed by a CA or self-signed.
    #[command(
        after_help = "Example:\n  certfleet cert issue --ca ca --cn web.example.test --san www.example.test --ip 10.0.0.5 --usage both --out web"
    )]
    Issue(IssueArgs),
    /// Accept a CA's signed reply after checking it against the CSR.
    #[command(
        after_help = "Example:\n  certfleet cert import --csr web.csr --cert reply.crt --key web.key --chain ca-chain.pem --out web"
    )]
    Import(ImportArgs),
}

/// Arguments of `cert issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// CA directory made by `ca init`.
    #[arg(
        long,
        required_unless_present = "self_signed",
        conflicts_with = "self_signed"
    )]
    ca: Option<PathBuf>,
    /// Make a self-signed certificate instead.
    #[arg(long)]
    self_signed: bool,
    /// Common name; always also a SAN.
    #[arg(long)]
    cn: String,
    /// Extra DNS name (repeatable).
    #[arg(long = "san")]
    sans: Vec<String>,
    /// IP address (repeatable).
    #[arg(long = "ip")]
    ips: Vec<IpAddr>,
    /// server, client or both.
    #[arg(long, default_value = "server")]
    usage: String,
    #[command(flatten)]
    subject: SubjectArgs,
    #[command(flatten)]
    key: KeyChoice,
    /// Validity in days (never past the CA's own expiry).
    #[arg(long, default_value_t = DEFAULT_LEAF_DAYS)]
    days: u32,
    /// Output prefix: PREFIX.key, PREFIX.crt, PREFIX.chain.crt, PREFIX.pem.
    #[arg(long)]
    out: PathBuf,
    /// Overwrite an existing PREFIX.key or PREFIX.pem (the key in it is lost).
    #[arg(long)]
    force: bool,
}

/// Arguments of `cert import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSR the reply answers.
    #[arg(long)]
    csr: PathBuf,
    /// The signed certificate (it may be followed by its chain).
    #[arg(long)]
    cert: PathBuf,
    /// The private key made with the CSR (default: the CSR's PREFIX.key when it exists).
    #[arg(long)]
    key: Option<PathBuf>,
    /// The CA's chain (intermediates and root).
    #[arg(long)]
    chain: Option<PathBuf>,
    /// Output prefix: PREFIX.crt, PREFIX.chain.crt, and with a key PREFIX.key and PREFIX.pem.
    #[arg(long)]
    out: PathBuf,
}

impl CertCommand {
    pub fn run(self) -> Result<Outcome> {
        match self {
            CertCommand::Issue(args) => args.run(),
            CertCommand::Import(args) => args.run(),
        }
    }
}

impl IssueArgs {
    fn run(self) -> Result<Outcome> {
        let request = LeafRequest {
            cn: self.cn,
            dns_names: self.sans,
            ips: self.ips,
            usage: usage(&self.usage)?,
            days: self.days,
            key: self.key.algorithm()?,
        };
        let authority = match &self.ca {
            Some(dir) => Some(load_issuing_ca(dir)?),
            None => None,
        };
        let key = PrivateKey::generate(request.key)?;
        let leaf = issue_leaf_with_subject(
            &request,
            &self.subject.attributes(),
            key,
            authority.as_ref(),
        )?;
        let key_files = KeyFiles::replacing_when(self.force);
        let written = write_leaf_files(
            &self.out,
            Some(&leaf.key),
            &leaf.cert,
            &leaf.chain,
            key_files,
        )?;
        report_written(&written);
        Ok(Outcome::Success)
    }
}

impl ImportArgs {
    fn run(self) -> Result<Outcome> {
        let csr = read_request(&self.csr)?;
        let reply = read_certificates(&self.cert)?;
        let extra_chain = match &self.chain {
            Some(path) => read_certificates(path)?,
            None => Vec::new(),
        };
        let key_path = self.key.clone().or_else(|| sibling_key_of_csr(&self.csr));
        let key = key_path.as_deref().map(read_private_key).transpose()?;
        let accepted = match check_reply(&csr, &reply, &extra_chain, key.as_ref()) {
            Ok(accepted) => accepted,
            Err(err) => bail!("{}: refused, nothing written: {err}", self.cert.display()),
        };
        // The key written is the one read from --key (or the CSR's sibling), not a new one.
        let written = write_leaf_files(
            &self.out,
            key.as_ref(),
            &accepted.leaf,
            &accepted.chain,
            KeyFiles::Replace,
        )?;
        report_written(&written);
        Ok(Outcome::Success)
    }
}
