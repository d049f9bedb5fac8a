//! `certfleet domain ...`: the domain tree of a running server, through its admin API.
//!
//! Every subcommand takes `--server`, `--data-dir` and `--token` ([`ServerFlags`]).
//! Refusals from the server (bad input, unknown domain, conflicts) exit 2 with the
//! server's message; `--json` prints the server's JSON unchanged.

use super::client::{path_segment, AdminClient, ServerFlags};
use super::output::print_json;
use super::Outcome;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hyper::Method;
use serde_json::{json, Value};
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
                let client = AdminClient::new(&args.server)?;
                let body = json!({ "name": args.name, "parent": args.parent });
                let view = client
                    .send(Method::POST, "/api/domains", Some(&body))?
                    .into_success()?;
                if args.json {
                    print_json(&view)?;
                } else {
                    match view.get("parent").and_then(Value::as_str) {
                        Some(parent) => println!("added {} under {parent}", text(&view, "name")),
                        None => println!("added {} (the master domain)", text(&view, "name")),
                    }
                }
            }
            DomainCommand::SetCert(args) => {
                let pem = std::fs::read_to_string(&args.file)
                    .with_context(|| format!("{}: cannot read the bundle", args.file.display()))?;
                let client = AdminClient::new(&args.server)?;
                let body = json!({ "pem": pem, "force": args.force });
                let path = format!("/api/domains/{}/certificate", path_segment(&args.name));
                let answer = client
                    .send(Method::PUT, &path, Some(&body))?
                    .into_success()?;
                if args.json {
                    print_json(&answer)?;
                } else {
                    let domain = answer.get("domain").cloned().unwrap_or(Value::Null);
                    let cert = domain.get("certificate").cloned().unwrap_or(Value::Null);
                    println!(
                        "stored certificate {} for {} (valid until {}; names {})",
                        text(&cert, "sha1_thumbprint"),
                        text(&domain, "name"),
                        text(&cert, "not_after"),
                        sans(&cert)
                    );
                }
                if let Some(warnings) = answer.get("warnings").and_then(Value::as_array) {
                    for warning in warnings.iter().filter_map(Value::as_str) {
                        eprintln!("warning: {warning}");
                    }
                }
            }
            DomainCommand::Acme(args) => {
                let client = AdminClient::new(&args.server)?;
                let body = json!({ "email": args.email, "enabled": !args.disable });
                let path = format!("/api/domains/{}/acme", path_segment(&args.name));
                let view = client
                    .send(Method::PUT, &path, Some(&body))?
                    .into_success()?;
                if args.json {
                    print_json(&view)?;
                } else {
                    let acme = view.get("acme").cloned().unwrap_or(Value::Null);
                    let state = if acme.get("enabled").and_then(Value::as_bool) == Some(true) {
                        "on"
                    } else {
                        "off"
                    };
                    println!(
                        "ACME for {}: {state} (account {})",
                        text(&view, "name"),
                        text(&acme, "email")
                    );
                }
            }
            DomainCommand::List(args) => {
                let client = AdminClient::new(&args.server)?;
                let views = client.get("/api/domains")?.into_success()?;
                if args.json {
                    print_json(&views)?;
                } else {
                    let empty = Vec::new();
                    let views = views.as_array().unwrap_or(&empty);
                    if views.is_empty() {
                        println!("no domains yet (add one with `certfleet domain add NAME`)");
                    }
                    for view in views {
                        print_summary_line(view);
                    }
                }
            }
            DomainCommand::Show(args) => {
                let client = AdminClient::new(&args.server)?;
                let path = format!("/api/domains/{}", path_segment(&args.name));
                let view = client.get(&path)?.into_success()?;
                if args.json {
                    print_json(&view)?;
                } else {
                    print_view(&view);
                }
            }
            DomainCommand::Resolve(args) => {
                let client = AdminClient::new(&args.server)?;
                let mut path = format!("/api/resolve/{}", path_segment(&args.name));
                if let Some(role) = &args.role {
                    path.push_str(&format!("?role={}", path_segment(role)));
                }
                let resolution = client.get(&path)?.into_success()?;
                if args.json {
                    print_json(&resolution)?;
                } else {
                    let from = match resolution.get("domain").and_then(Value::as_str) {
                        Some(domain) => format!("domain {domain}"),
                        None => text(&resolution, "source"),
                    };
                    println!(
                        "{} -> {} from {from} (role {})",
                        text(&resolution, "sni"),
                        text(&resolution, "sha1_thumbprint"),
                        text(&resolution, "role")
                    );
                    println!("  {}", text(&resolution, "reason"));
                }
            }
        }
        Ok(Outcome::Success)
    }
}

/// A string field, or `-` when absent or null.
fn text(value: &Value, field: &str) -> String {
    match value.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".to_owned(),
        Some(other) => other.to_string(),
    }
}

fn sans(cert: &Value) -> String {
    let names: Vec<&str> = cert
        .get("sans")
        .and_then(Value::as_array)
        .map(|sans| sans.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn print_summary_line(view: &Value) {
    let parent = match view.get("parent").and_then(Value::as_str) {
        Some(parent) => format!("under {parent}"),
        None => "master".to_owned(),
    };
    let certificate = match view.get("certificate") {
        Some(cert) if !cert.is_null() => {
            format!(
                "certificate {} until {}",
                text(cert, "sha1_thumbprint"),
                text(cert, "not_after")
            )
        }
        _ => match view.get("effective_domain").and_then(Value::as_str) {
            Some(from) => format!("inherits {from}'s certificate"),
            None => "no certificate".to_owned(),
        },
    };
    println!("{}  ({parent}; {certificate})", text(view, "name"));
}

fn print_view(view: &Value) {
    println!("name:        {}", text(view, "name"));
    println!(
        "parent:      {}",
        view.get("parent")
            .and_then(Value::as_str)
            .unwrap_or("none (the master domain)")
    );
    match view.get("certificate") {
        Some(cert) if !cert.is_null() => {
            println!("certificate: {}", text(cert, "sha1_thumbprint"));
            println!("  not after: {}", text(cert, "not_after"));
            println!("  names:     {}", sans(cert));
            println!("  auto:      {}", text(cert, "auto_issued"));
        }
        _ => println!("certificate: none"),
    }
    if let Some(from) = view.get("effective_domain").and_then(Value::as_str) {
        println!("served:      the certificate of {from}");
    }
    let acme = view.get("acme").cloned().unwrap_or(Value::Null);
    println!(
        "acme:        {} (account {}, renew at {})",
        if acme.get("enabled").and_then(Value::as_bool) == Some(true) {
            "on"
        } else {
            "off"
        },
        text(&acme, "email"),
        text(&acme, "renew_at")
    );
}
