//! `certfleet domain ...`: the domain tree of a running server, through its admin API.
//!
//! Every subcommand takes `--server`, `--data-dir` and `--token` ([`ServerFlags`]).
//! Refusals from the server (bad input, unknown domain, conflicts) exit 2 with the
//! server's message; `--json` prints the server's JSON unchanged. The calls and the text
//! of the answers are certfleet-api's.

use super::client::{admin_client, ServerFlags};
use super::output::print_answer;
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_api::admin::domain_lifecycle::MoveDomain;
use certfleet_api::admin::domains::{AddDomain, DomainJson, SetAcme, SetCertificate};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The `domain` subcommands.
#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Add a domain (the first one is the master; others go under the master by default).
    #[command(
        after_help = "Examples:\n  certfleet domain add example.test\n  certfleet domain add shop.example.test --parent example.test"
    )]
    Add(AddArgs),
    /// Store a merged bundle (key, certificate, chain) as a domain's certificate.
    #[command(
        after_help = "Example:\n  certfleet domain set-cert shop.example.test shop.pem\n\nThe bundle must hold the key of its certificate, and the certificate must cover the\ndomain's name unless --force is given."
    )]
    SetCert(SetCertArgs),
    /// Turn automatic (ACME) issuance on or off for a domain.
    #[command(
        after_help = "Examples:\n  certfleet domain acme shop.example.test --email ops@example.test\n  certfleet domain acme shop.example.test --email ops@example.test --disable"
    )]
    Acme(AcmeArgs),
    /// List every domain.
    #[command(after_help = "Example:\n  certfleet domain list --json")]
    List(ListArgs),
    /// Show one domain.
    #[command(after_help = "Example:\n  certfleet domain show shop.example.test --json")]
    Show(ShowArgs),
    /// Which certificate a handshake naming NAME gets, and why.
    #[command(
        after_help = "Example:\n  certfleet domain resolve api.shop.example.test --role ws --json"
    )]
    Resolve(ResolveArgs),
    /// Delete a domain, with its certificate, sealed key and ACME records.
    #[command(
        after_help = "Examples:\n  certfleet domain delete api.shop.example.test\n  certfleet domain delete shop.example.test --recursive\n\nA domain with children is refused unless --recursive is given; then every domain\nbelow it goes too. Handshakes naming a deleted domain fall back at once, as for a\nname never added (its first parent name that is a domain, else the master, then\nthe certdir and the default certificate)."
    )]
    Delete(DeleteArgs),
    /// Move a domain, with every domain below it, under another parent.
    #[command(
        after_help = "Example:\n  certfleet domain move www.shop.example.test --parent other.example.test\n\nThe parent must be an existing domain other than the domain itself or one below\nit; the master cannot move. The moved domains that have no certificate of their own\nnow inherit the new parent's (or its nearest ancestor's)."
    )]
    Move(MoveArgs),
}

/// The flags every `domain` subcommand takes, after its own.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
}

/// `domain delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The domain's name.
    name: String,
    /// Delete every domain below it too.
    #[arg(long)]
    recursive: bool,
    #[command(flatten)]
    common: CommonArgs,
}

/// `domain move`.
#[derive(Debug, Args)]
pub struct MoveArgs {
    /// The domain's name.
    name: String,
    /// The new parent domain.
    #[arg(long, value_name = "NAME")]
    parent: String,
    #[command(flatten)]
    common: CommonArgs,
}

/// `domain add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The domain's name.
    name: String,
    /// The parent domain (default: the master).
    #[arg(long, value_name = "NAME")]
    parent: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

/// `domain set-cert`.
#[derive(Debug, Args)]
pub struct SetCertArgs {
    /// The domain's name.
    name: String,
    /// The merged PEM bundle: key, certificate and chain.
    file: PathBuf,
    /// Store it even when the certificate does not cover the domain's name.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    common: CommonArgs,
}

/// `domain acme`.
#[derive(Debug, Args)]
pub struct AcmeArgs {
    /// The domain's name.
    name: String,
    /// The ACME account's contact address.
    #[arg(long, value_name = "ADDR")]
    email: String,
    /// Turn automatic issuance off instead of on.
    #[arg(long)]
    disable: bool,
    #[command(flatten)]
    common: CommonArgs,
}

/// `domain list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    common: CommonArgs,
}

/// `domain show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The domain's name.
    name: String,
    #[command(flatten)]
    common: CommonArgs,
}

/// `domain resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The SNI name to resolve.
    name: String,
    /// The listener role whose certdir applies (default: the first listener's).
    #[arg(long, value_name = "ROLE")]
    role: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

impl DomainCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<Outcome> {
        match self {
            DomainCommand::Add(args) => {
                let request = AddDomain {
                    name: args.name,
                    parent: args.parent,
                };
                let (view, json) = admin_client(&args.common.server)?.add_domain(&request)?;
                print_answer(args.common.json, &json, || view.added_text())?;
            }
            DomainCommand::SetCert(args) => {
                let pem = std::fs::read_to_string(&args.file)
                    .with_context(|| format!("{}: cannot read the bundle", args.file.display()))?;
                let client = admin_client(&args.common.server)?;
                let request = SetCertificate {
                    pem,
                    force: args.force,
                };
                let (answer, json) = client.set_certificate(&args.name, &request)?;
                print_answer(args.common.json, &json, || answer.stored_text())?;
                for warning in &answer.warnings {
                    eprintln!("warning: {warning}");
                }
            }
            DomainCommand::Acme(args) => {
                let client = admin_client(&args.common.server)?;
                let request = SetAcme {
                    email: Some(args.email),
                    enabled: !args.disable,
                };
                let (view, json) = client.set_acme(&args.name, &request)?;
                print_answer(args.common.json, &json, || view.acme_text())?;
            }
            DomainCommand::List(args) => {
                let (views, json) = admin_client(&args.common.server)?.domains()?;
                print_answer(args.common.json, &json, || DomainJson::list_text(&views))?;
            }
            DomainCommand::Show(args) => {
                let (view, json) = admin_client(&args.common.server)?.domain(&args.name)?;
                print_answer(args.common.json, &json, || view.details_text())?;
            }
            DomainCommand::Resolve(args) => {
                let client = admin_client(&args.common.server)?;
                let (resolution, json) = client.resolve(&args.name, args.role.as_deref())?;
                print_answer(args.common.json, &json, || resolution.explanation_text())?;
            }
            DomainCommand::Delete(args) => {
                let client = admin_client(&args.common.server)?;
                let (answer, json) = client.delete_domain(&args.name, args.recursive)?;
                print_answer(args.common.json, &json, || answer.deleted_text())?;
            }
            DomainCommand::Move(args) => {
                let client = admin_client(&args.common.server)?;
                let request = MoveDomain {
                    parent: args.parent,
                };
                let (answer, json) = client.move_domain(&args.name, &request)?;
                print_answer(args.common.json, &json, || answer.moved_text())?;
            }
        }
        Ok(Outcome::Success)
    }
}
