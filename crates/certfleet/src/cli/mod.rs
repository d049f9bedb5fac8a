//! The command line: one module per command group, each turning arguments into calls to
//! the library crates and their results into files, text or JSON.

mod agent;
mod ca;
mod ca_server;
mod cert;
mod client;
mod context;
mod convert;
mod csr;
mod dhparam;
mod domain;
mod inspect;
mod keystore;
mod lint;
mod logging;
mod node;
mod node_csrs;
mod nodes;

mod output;
mod platform;
mod renew;
mod rollout;
mod rotate;
mod scan;
mod secret_arg;
mod secrets;
mod self_docs;
mod serve;
mod status;
mod subject_args;
mod verify;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// certfleet keeps a multi-service platform's TLS working: its CA, its certificate
/// toolbelt, and its judge of certificates and chains.
#[derive(Debug, Parser)]
// `term_width = 0`: help text is never re-wrapped at the terminal's width (every
// subcommand inherits it). The texts are already wrapped by hand, and the example
// command lines under "Examples:" must stay one line each so that a copied example
// runs as one command.
#[command(name = "certfleet", version, about, long_about = None, term_width = 0)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Certificate authorities: make one offline (init), or the server's CAs: list, show,
    /// create, sign CSRs, issue and renew domains' certificates.
    #[command(subcommand)]
    Ca(ca::CaCommand),
    /// Issue and import certificates.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// Certificate signing requests.
    #[command(subcommand)]
    Csr(csr::CsrCommand),
    /// Describe a certificate, chain, CSR, key or bundle.
    Inspect(inspect::InspectArgs),
    /// Find the mistakes that break handshakes, with a fix for each.
    Lint(lint::LintArgs),
    /// Build and check a certificate's chain to a trust store.
    Verify(verify::VerifyArgs),
    /// Seal a secret as a CRYPT: value for configuration files.
    Encrypt(secrets::EncryptArgs),
    /// Open a CRYPT: value with the data directory's master key.
    Decrypt(secrets::DecryptArgs),
    /// Generate or check shared secrets.
    #[command(subcommand)]
    Secret(secrets::SecretCommand),
    /// Convert keys, certificates, bundles and keystores between formats.
    Convert(convert::ConvertArgs),
    /// Write Diffie-Hellman parameters (RFC 7919 groups, or freshly generated).
    Dhparam(dhparam::DhparamArgs),
    /// JKS and PKCS#12 keystores: list, import, delete, change passwords, export.
    #[command(
        subcommand,
        after_help = "Example:\n  certfleet keystore import-cert truststore.jks --password changeit --alias root --cert ca/root.crt"
    )]
    Keystore(keystore::KeystoreCommand),
    /// Run the TLS edge and the admin API (prints the addresses it listens on).
    Serve(serve::ServeArgs),
    /// The domain tree of a running server: add, set certificates, ACME, list, resolve.
    #[command(
        subcommand,
        after_help = "Example:\n  certfleet domain add example.test --server https://127.0.0.1:9443 --data-dir ./certfleet-data"
    )]
    Domain(domain::DomainCommand),
    /// Every certificate a running server manages, its expiry state, and ACME progress.
    #[command(
        after_help = "Example:\n  certfleet status --json\n\nExit status: 0 when every certificate is ok, 1 when one is expired or in its warning\nwindow ([monitor] warn_days), 2 when the server cannot be asked."
    )]
    Status(status::StatusArgs),
    /// Scan TLS endpoints: chain, expiry, hostname, lint findings and drift.
    Scan(scan::ScanArgs),
    /// Show what apply would change for a platform model (offline).
    Plan(platform::PlanArgs),
    /// Issue, write and reload everything a platform model asks for (offline).
    Apply(platform::ApplyArgs),
    /// The node agent: enrol with the server, keep this node's files, hooks and checks.
    #[command(subcommand)]
    Agent(agent::AgentCommand),
    /// Nodes' agents on a running server: enrolment tokens, revocation, and external CAs'
    /// CSRs and replies.
    #[command(subcommand)]
    Node(node::NodeCommand),
    /// Every node's agent and each service's deployment state (on a running server).
    #[command(after_help = "Example:\n  certfleet nodes --data-dir ./certfleet-data")]
    Nodes(nodes::NodesArgs),
    /// Renew a service's certificate now through its node's agent (on a running server).
    #[command(
        after_help = "Example:\n  certfleet renew web-1 --platform qms --data-dir ./certfleet-data"
    )]
    Renew(renew::RenewArgs),
    /// Staged rollouts of service groups to agents: resume a halted group (on a running
    /// server).
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),
    /// Save, show or forget the server client commands talk to by default.
    #[command(subcommand)]
    Context(context::ContextCommand),
    /// Rotate a platform model's internal CA or its services' keys, one phase per apply
    /// (offline).
    #[command(subcommand)]
    Rotate(rotate::RotateCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  certfleet completions bash > /etc/bash_completion.d/certfleet"
    )]
    Completions(self_docs::CompletionsArgs),
    /// Print the man page (roff), generated from the same definition as --help.
    #[command(after_help = "Example:\n  certfleet man > certfleet.1 && man -l certfleet.1")]
    Man(self_docs::ManArgs),
    /// Print the version and the build's details.
    Version(self_docs::VersionArgs),
}

/// How a command that ran to the end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; nothing to report.
    Success,
    /// A check ran and found a problem (exit 1).
    ProblemFound,
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::ProblemFound => ExitCode::from(1),
        }
    }
}

impl Cli {
    /// Runs the chosen command.
    pub fn run(self) -> Result<Outcome> {
        match self.command {
            Command::Ca(cmd) => cmd.run(),
            Command::Cert(cmd) => cmd.run(),
            Command::Csr(cmd) => cmd.run(),
            Command::Inspect(args) => args.run(),
            Command::Lint(args) => args.run(),
            Command::Verify(args) => args.run(),
            Command::Encrypt(args) => args.run(),
            Command::Decrypt(args) => args.run(),
            Command::Secret(cmd) => cmd.run(),
            Command::Convert(args) => args.run(),
            Command::Dhparam(args) => args.run(),
            Command::Keystore(cmd) => cmd.run(),
            Command::Serve(args) => args.run(),
            Command::Domain(cmd) => cmd.run(),
            Command::Status(args) => args.run(),
            Command::Scan(args) => args.run(),
            Command::Plan(args) => args.run(),
            Command::Apply(args) => args.run(),
            Command::Agent(cmd) => cmd.run(),
            Command::Node(cmd) => cmd.run(),
            Command::Nodes(args) => args.run(),
            Command::Renew(args) => args.run(),
            Command::Rollout(cmd) => cmd.run(),
            Command::Rotate(cmd) => cmd.run(),
            Command::Context(cmd) => cmd.run(),
            Command::Completions(args) => args.run(),
            Command::Man(args) => args.run(),
            Command::Version(args) => args.run(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
