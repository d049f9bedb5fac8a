//! `certfleet context save|show|clear`: the saved client context the client commands
//! fall back on when no flag or environment variable names the server
//! ([`certfleet_api::client_context`] keeps it).

use super::client::{admin_client, read_pinned, ServerFlags};
use super::output::print_answer;
use super::Outcome;
use anyhow::{anyhow, Context as _, Result};
use certfleet_api::client_connect::{DEFAULT_DATA_DIR, DEFAULT_SERVER};
use certfleet_api::client_context::{self, context_dir, ClientContext, NewContext};
use certfleet_api::client_context_text::{cleared_text, context_json, context_text};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// `certfleet context`.
#[derive(Debug, Subcommand)]
pub enum ContextCommand {
    /// Check a server and save it as the one client commands talk to by default
    #[command(
        after_help = "Example:\n  certfleet context save --server https://certs.example.test:9443 --data-dir /var/lib/certfleet\n\nAsks the server once (the token and pinned certificate must work), then keeps its URL\nand a copy of the certificate its admin listener presents in the context directory\n($CERTFLEET_CONTEXT_DIR, else $XDG_CONFIG_HOME/certfleet, else ~/.config/certfleet).\nThe token is read from DATA_DIR/admin.token at each command, unless --token is given:\nthen it is kept there (mode 0600) and the data directory is no longer needed. Flags and\nCERTFLEET_SERVER, CERTFLEET_DATA_DIR and CERTFLEET_TOKEN still win over the context."
    )]
    Save(SaveArgs),
    /// Show the saved context
    Show(ShowArgs),
    /// Forget the saved context
    Clear,
}

/// `certfleet context save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    #[command(flatten)]
    server: ServerFlags,
}

/// `certfleet context show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Print the JSON document.
    #[arg(long)]
    json: bool,
}

impl ContextCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<Outcome> {
        let dir = context_dir()
            .ok_or_else(|| anyhow!("no context directory: set CERTFLEET_CONTEXT_DIR or HOME"))?;
        match self {
            ContextCommand::Save(args) => args.run(&dir),
            ContextCommand::Show(args) => args.run(&dir),
            ContextCommand::Clear => {
                print!("{}", cleared_text(&dir, client_context::clear(&dir)?));
                Ok(Outcome::Success)
            }
        }
    }
}

impl SaveArgs {
    fn run(self, dir: &Path) -> Result<Outcome> {
        // Saved only from what was given here, never from an older context.
        let data_dir = absolute(
            self.server
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        )?;
        let server = self
            .server
            .server
            .clone()
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        let flags = ServerFlags {
            server: Some(server.clone()),
            data_dir: Some(data_dir.clone()),
            token: self.server.token.clone(),
        };
        // The server must answer with this token and pin before anything is kept.
        admin_client(&flags)?.get("/api/status")?.into_success()?;
        let pinned_file = data_dir.join("default.pem");
        read_pinned(&pinned_file)?;
        let pinned_pem =
            std::fs::read(&pinned_file).with_context(|| pinned_file.display().to_string())?;
        let token = match &self.server.token {
            Some(token) => Some(token.expose()?),
            None => None,
        };
        client_context::save(
            dir,
            &NewContext {
                server: &server,
                data_dir: &data_dir,
                pinned_pem: &pinned_pem,
                token: token.map(str::trim),
            },
        )?;
        println!("saved {server} as the context in {}", dir.display());
        Ok(Outcome::Success)
    }
}

impl ShowArgs {
    fn run(self, dir: &Path) -> Result<Outcome> {
        let context = ClientContext::load(dir)?;
        let answer = context_json(dir, context.as_ref())?;
        print_answer(self.json, &answer, || context_text(dir, context.as_ref()))?;
        Ok(Outcome::Success)
    }
}

fn absolute(path: PathBuf) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path);
    }
    let cwd = std::env::current_dir().context("the working directory")?;
    Ok(cwd.join(path))
}
