//! `certfleet ca init`: a root CA, optionally with an issuing intermediate.

use super::output::{report_written, KeyChoice};
use super::subject_args::SubjectArgs;
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_pki::authority::init_ca_with_subject;
use certfleet_pki::certs::to_pem;
use certfleet_platform::ca_dir::CaPaths;
use certfleet_platform::files::{Mode, OutputSet};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Certificate authority commands.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create a root CA (and optionally an intermediate that issues everything).
    #[command(
        after_help = "Example:\n  certfleet ca init --out ca --cn \"Example Root CA\" --intermediate-cn \"Example Issuing CA\" --org \"Example Corp\" --country US"
    )]
    Init(InitArgs),
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
        let paths = CaPaths::new(&self.out);
        let ca = init_ca_with_subject(
            &self.cn,
            &self.subject.attributes(),
            algorithm,
            self.days,
            self.intermediate_cn.as_deref(),
        )?;
        let mut set = OutputSet::default();
        set.add(
            &paths.root_crt,
            to_pem(std::slice::from_ref(&ca.root_cert)),
            Mode::Public,
        );
        set.add(
            &paths.root_key,
            ca.root_key.to_pem().as_bytes(),
            Mode::Secret,
        );
        if let Some((cert, key)) = &ca.intermediate {
            set.add(
                &paths.intermediate_crt,
                to_pem(std::slice::from_ref(cert)),
                Mode::Public,
            );
            set.add(
                &paths.intermediate_key,
                key.to_pem().as_bytes(),
                Mode::Secret,
            );
        }
        set.refuse_existing("a CA is never overwritten; choose another --out")?;
        report_written(&set.commit()?);
        Ok(Outcome::Success)
    }
}
