//! `certfleet ca list|show|create|sign|issue`: the CAs a running server keeps in its
//! store, through its admin API (the flags of [`ServerFlags`]). The calls and the text
//! of the answers are certfleet-api's; `--json` prints the server's JSON.

use super::client::{admin_client, ServerFlags};
use super::output::{print_answer, report_written};
use super::subject_args::SubjectArgs;
use anyhow::{Context, Result};
use certfleet_api::admin::ca_requests::{CreateCa, IssueFromCa, KeyJson, SignCsr, UsageJson};
use certfleet_api::admin::cas::PolicyJson;
use certfleet_api::admin::cas_text::cas_text;
use certfleet_platform::files::{Mode, OutputSet};
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;
use time::OffsetDateTime;

/// `ca list`, and the flags every server CA command shares.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
}

/// `ca show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The CA's name.
    name: String,
    #[command(flatten)]
    common: ListArgs,
}

/// `ca create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The CA's name on the server: one DNS label (a-z, 0-9, '-').
    name: String,
    /// Common name of the root (default: the CA's name).
    #[arg(long)]
    cn: Option<String>,
    #[command(flatten)]
    subject: SubjectArgs,
    #[command(flatten)]
    key: KeyArg,
    /// Validity in days.
    #[arg(long, default_value_t = 3650)]
    days: u32,
    /// Also create an intermediate (issuing) CA with this common name.
    #[arg(long)]
    intermediate_cn: Option<String>,
    /// Sign only names under this DNS suffix (repeat for more; default: any name).
    #[arg(long = "allowed-domain", value_name = "SUFFIX")]
    allowed_domains: Vec<String>,
    /// Grant at most this many days of validity.
    #[arg(long, value_name = "N")]
    max_days: Option<u32>,
    #[command(flatten)]
    common: ListArgs,
}

/// `--key` of the commands that make a key on the server.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// Key algorithm: ecdsa-p256, ecdsa-p384, ed25519, rsa2048, rsa3072, rsa4096.
    #[arg(long, value_name = "ALG", default_value = "ecdsa-p256", value_parser = KeyJson::from_name)]
    key: KeyJson,
}

/// `ca sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The CA's name.
    name: String,
    /// The CSR (PEM).
    #[arg(long, value_name = "FILE")]
    csr: PathBuf,
    /// Validity in days (default 365), capped at the CA's expiry.
    #[arg(long)]
    days: Option<u32>,
    /// What the certificate is for: server, client or both.
    #[arg(long, default_value = "server", value_parser = usage_json)]
    usage: UsageJson,
    /// Write the certificate then its chain here (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    common: ListArgs,
}

/// `ca issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The CA's name.
    name: String,
    /// The server's domain to issue for; the certificate becomes its certificate.
    #[arg(long, value_name = "DOMAIN")]
    domain: String,
    /// Validity in days (default 365), capped at the CA's expiry.
    #[arg(long, conflicts_with = "seconds")]
    days: Option<u32>,
    /// Validity in seconds instead of days (at least 60), for short-lived certificates.
    #[arg(long)]
    seconds: Option<u32>,
    #[command(flatten)]
    key: KeyArg,
    /// What the certificate is for: server, client or both.
    #[arg(long, default_value = "server", value_parser = usage_json)]
    usage: UsageJson,
    #[command(flatten)]
    common: ListArgs,
}

fn usage_json(name: &str) -> Result<UsageJson, String> {
    serde_json::from_value(name.into()).map_err(|_| format!("'{name}': use server, client or both"))
}

/// Prints the server's JSON with `--json`, else `text`.
fn answer(common: &ListArgs, json: &Value, text: impl FnOnce() -> String) -> Result<()> {
    print_answer(common.json, json, text)
}

impl ListArgs {
    pub fn run(self) -> Result<()> {
        let (cas, json) = admin_client(&self.server)?.cas()?;
        answer(&self, &json, || cas_text(&cas, OffsetDateTime::now_utc()))
    }
}

impl ShowArgs {
    pub fn run(self) -> Result<()> {
        let (ca, issued, json) = admin_client(&self.common.server)?.ca(&self.name)?;
        answer(&self.common, &json, || {
            ca.details_text(OffsetDateTime::now_utc(), &issued)
        })
    }
}

impl CreateArgs {
    pub fn run(self) -> Result<()> {
        let policy =
            (!self.allowed_domains.is_empty() || self.max_days.is_some()).then_some(PolicyJson {
                allowed_domains: self.allowed_domains,
                max_days: self.max_days,
            });
        let request = CreateCa {
            cn: self.cn.unwrap_or_else(|| self.name.clone()),
            name: self.name,
            key: self.key.key,
            days: self.days,
            intermediate_cn: self.intermediate_cn,
            subject: Some(self.subject.attributes().into()),
            policy,
        };
        let (ca, json) = admin_client(&self.common.server)?.create_ca(&request)?;
        answer(&self.common, &json, || ca.created_text())
    }
}

impl SignArgs {
    pub fn run(self) -> Result<()> {
        let csr = std::fs::read_to_string(&self.csr)
            .with_context(|| format!("{}: cannot read the CSR", self.csr.display()))?;
        let (usage, days) = (self.usage, self.days);
        let request = SignCsr { csr, usage, days };
        let (signed, json) = admin_client(&self.common.server)?.sign_csr(&self.name, &request)?;
        let pem = format!("{}{}", signed.certificate, signed.chain);
        let Some(out) = &self.out else {
            return answer(&self.common, &json, || pem);
        };
        let mut set = OutputSet::default();
        set.add(out, pem.as_bytes(), Mode::Public);
        report_written(&set.commit()?);
        answer(&self.common, &json, || {
            signed.signed_text(&out.display().to_string())
        })
    }
}

impl IssueArgs {
    pub fn run(self) -> Result<()> {
        let request = IssueFromCa {
            ca: self.name.clone(),
            key: self.key.key,
            days: self.days,
            seconds: self.seconds,
            usage: self.usage,
        };
        let client = admin_client(&self.common.server)?;
        let (view, json) = client.issue_from_ca(&self.domain, &request)?;
        answer(&self.common, &json, || view.issued_text(&self.name))
    }
}
