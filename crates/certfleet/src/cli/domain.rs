//! `certfleet domain ...`: the domain tree of a running server, through its admin API.
//!
//! Every subcommand takes `--server`, `--data-dir` and `--token` ([`ServerFlags`]).
//! Refusals from the server (bad input, unknown domain, conflicts) exit 2 with the
//! server's message; `--json` prints the server's JSON unchanged.

use super::client::{admin_client, path_segment, ServerFlags};
use super::output::print_json;
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_api::admin::domain_lifecycle::{DomainDeletedJson, DomainMovedJson, MoveDomain};
use certfleet_api::admin::domains::{
    AddDomain, CertificateSetJson, DomainJson, ResolutionJson, SetAcme, SetCertificate,
};
use clap::{Args, Subcommand};
use hyper::Method;
use serde_json::Value;
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

/// `domain delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The domain's name.
    name: String,
    /// Delete every domain below it too.
    #[arg(long)]
    recursive: bool,
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
}

/// `domain move`.
#[derive(Debug, Args)]
pub struct MoveArgs {
    /// The domain's name.
    name: String,
    /// The new parent domain.
    #[arg(long, value_name = "NAME")]
    parent: String,
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
}

/// `domain add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The domain's name.
    name: String,
    /// The parent domain (default: the master).
    #[arg(long, value_name = "NAME")]
    parent: Option<String>,
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
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
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
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
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
}

/// `domain list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
}

/// `domain show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The domain's name.
    name: String,
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
}

/// `domain resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The SNI name to resolve.
    name: String,
    /// The listener role whose certdir applies (default: the first listener's).
    #[arg(long, value_name = "ROLE")]
    role: Option<String>,
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerFlags,
}

impl DomainCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<Outcome> {
        match self {
            DomainCommand::Add(args) => {
                let client = admin_client(&args.server)?;
                let body = AddDomain {
                    name: args.name,
                    parent: args.parent,
                };
                let (view, json) = client
                    .send(Method::POST, "/api/domains", Some(&to_json(&body)?))?
                    .decode::<DomainJson>()?;
                if args.json {
                    print_json(&json)?;
                } else {
                    print!("{}", view.added_text());
                }
            }
            DomainCommand::SetCert(args) => {
                let pem = std::fs::read_to_string(&args.file)
                    .with_context(|| format!("{}: cannot read the bundle", args.file.display()))?;
                let client = admin_client(&args.server)?;
                let body = SetCertificate {
                    pem,
                    force: args.force,
                };
                let path = format!("/api/domains/{}/certificate", path_segment(&args.name));
                let (answer, json) = client
                    .send(Method::PUT, &path, Some(&to_json(&body)?))?
                    .decode::<CertificateSetJson>()?;
                if args.json {
                    print_json(&json)?;
                } else {
                    print!("{}", answer.stored_text());
                }
                for warning in &answer.warnings {
                    eprintln!("warning: {warning}");
                }
            }
            DomainCommand::Acme(args) => {
                let client = admin_client(&args.server)?;
                let body = SetAcme {
                    email: Some(args.email),
                    enabled: !args.disable,
                };
                let path = format!("/api/domains/{}/acme", path_segment(&args.name));
                let (view, json) = client
                    .send(Method::PUT, &path, Some(&to_json(&body)?))?
                    .decode::<DomainJson>()?;
                if args.json {
                    print_json(&json)?;
                } else {
                    print!("{}", view.acme_text());
                }
            }
            DomainCommand::List(args) => {
                let client = admin_client(&args.server)?;
                let (views, json) = client.get("/api/domains")?.decode::<Vec<DomainJson>>()?;
                if args.json {
                    print_json(&json)?;
                } else {
                    if views.is_empty() {
                        println!("no domains yet (add one with `certfleet domain add NAME`)");
                    }
                    for view in &views {
                        print!("{}", view.summary_text());
                    }
                }
            }
            DomainCommand::Show(args) => {
                let client = admin_client(&args.server)?;
                let path = format!("/api/domains/{}", path_segment(&args.name));
                let (view, json) = client.get(&path)?.decode::<DomainJson>()?;
                if args.json {
                    print_json(&json)?;
                } else {
                    print!("{}", view.details_text());
                }
            }
            DomainCommand::Resolve(args) => {
                let client = admin_client(&args.server)?;
                let mut path = format!("/api/resolve/{}", path_segment(&args.name));
                if let Some(role) = &args.role {
                    path.push_str(&format!("?role={}", path_segment(role)));
                }
                let (resolution, json) = client.get(&path)?.decode::<ResolutionJson>()?;
                if args.json {
                    print_json(&json)?;
                } else {
                    print!("{}", resolution.explanation_text());
                }
            }
            DomainCommand::Delete(args) => {
                let client = admin_client(&args.server)?;
                let mut path = format!("/api/domains/{}", path_segment(&args.name));
                if args.recursive {
                    path.push_str("?recursive=true");
                }
                let (answer, json) = client
                    .send(Method::DELETE, &path, None)?
                    .decode::<DomainDeletedJson>()?;
                if args.json {
                    print_json(&json)?;
                } else {
                    print!("{}", answer.deleted_text());
                }
            }
            DomainCommand::Move(args) => {
                let client = admin_client(&args.server)?;
                let body = MoveDomain {
                    parent: args.parent,
                };
                let path = format!("/api/domains/{}/parent", path_segment(&args.name));
                let (answer, json) = client
                    .send(Method::PUT, &path, Some(&to_json(&body)?))?
                    .decode::<DomainMovedJson>()?;
                if args.json {
                    print_json(&json)?;
                } else {
                    print!("{}", answer.moved_text());
                }
            }
        }
        Ok(Outcome::Success)
    }
}

/// A request body as JSON.
fn to_json(body: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(body).context("encoding the request")
}
