//! `certfleet node csrs --platform NAME [--out DIR]` and `certfleet node reply SERVICE
//! --platform NAME --cert FILE [--chain FILE]`: the CSRs nodes sent for services of an
//! external CA (listed, or written out one file per service for the CA), and the CA's
//! reply handed to the server, which checks it against the node's CSR and the model and
//! has the node deploy it.

use super::client::{admin_client, ServerFlags};
use super::output::print_answer;
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_api::nodes::CsrReply;
use clap::Args;
use std::path::PathBuf;

/// `certfleet node csrs`.
#[derive(Debug, Args)]
pub struct CsrsArgs {
    /// The platform: its model's `[platform]` name, configured on the server.
    #[arg(long, value_name = "NAME")]
    platform: String,
    /// Write each CSR to DIR/SERVICE.csr for the CA.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    server: ServerFlags,
    /// Print the server's JSON answer.
    #[arg(long)]
    json: bool,
}

impl CsrsArgs {
    /// Runs the command.
    pub fn run(self) -> Result<Outcome> {
        let (answer, raw) = admin_client(&self.server)?.pending_csrs(&self.platform)?;
        if let Some(dir) = &self.out {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for csr in &answer.csrs {
                let file = dir.join(format!("{}.csr", csr.service));
                std::fs::write(&file, &csr.csr_pem)
                    .with_context(|| format!("cannot write {}", file.display()))?;
                eprintln!("wrote {}", file.display());
            }
        }
        print_answer(self.json, &raw, || answer.to_text())?;
        Ok(Outcome::Success)
    }
}

/// `certfleet node reply`.
#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The service, a `[[service]]` of the platform's model with `ca = "external"`.
    #[arg(value_name = "SERVICE")]
    service: String,
    /// The platform: its model's `[platform]` name, configured on the server.
    #[arg(long, value_name = "NAME")]
    platform: String,
    /// The CA's reply: the signed certificate (PEM), with its chain when the CA sent it.
    #[arg(long, value_name = "FILE")]
    cert: PathBuf,
    /// The chain, when the CA sent it in another file (PEM).
    #[arg(long, value_name = "FILE")]
    chain: Option<PathBuf>,
    #[command(flatten)]
    server: ServerFlags,
    /// Print the server's JSON answer.
    #[arg(long)]
    json: bool,
}

impl ReplyArgs {
    /// Runs the command.
    pub fn run(self) -> Result<Outcome> {
        let read = |file: &PathBuf| {
            std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
        };
        let reply = CsrReply {
            certificate_pem: read(&self.cert)?,
            chain_pem: self.chain.as_ref().map(read).transpose()?,
        };
        let client = admin_client(&self.server)?;
        let (answer, raw) = client.import_reply(&self.platform, &self.service, &reply)?;
        print_answer(self.json, &raw, || answer.imported_text())?;
        Ok(Outcome::Success)
    }
}
