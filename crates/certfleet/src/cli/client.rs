//! The command line's side of the admin API client: the flags every client command
//! shares, and reading the token and the pinned certificate they name.
//!
//! `--server URL` (default `https://127.0.0.1:9443`), the bearer token from `--token` or
//! `DATA_DIR/admin.token`, and trust pinned to the certificate in `DATA_DIR/default.pem`.
//! Each flag may come from the environment instead ([`SERVER_ENV`], [`DATA_DIR_ENV`],
//! [`TOKEN_ENV`]); a flag given on the command line wins over its variable, and either
//! over the saved context (`certfleet context save`), which wins over the defaults.
//! The requests themselves are [`certfleet_api::client::AdminClient`]'s.

use super::secret_arg::{SecretArg, SecretParser, ASK};
use anyhow::{anyhow, bail, Context, Result};
pub use certfleet_api::client::{path_segment, AdminClient};
use certfleet_api::client_context::{context_dir, ClientContext};
use clap::Args;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The environment variable that stands for `--server`.
pub const SERVER_ENV: &str = "CERTFLEET_SERVER";
/// The environment variable that stands for `--data-dir`, on the client commands and on
/// the commands that read the master key.
pub const DATA_DIR_ENV: &str = "CERTFLEET_DATA_DIR";
/// The environment variable that stands for `--token`; `--help` never shows its value.
pub const TOKEN_ENV: &str = "CERTFLEET_TOKEN";

/// The default of `--server`.
const DEFAULT_SERVER: &str = "https://127.0.0.1:9443";
/// The default of `--data-dir`.
const DEFAULT_DATA_DIR: &str = "./certfleet-data";

/// The flags every client command shares.
#[derive(Debug, Clone, Args)]
pub struct ServerFlags {
    /// The admin listener's URL (default: the saved context's, else https://127.0.0.1:9443).
    #[arg(long, value_name = "URL", env = SERVER_ENV)]
    pub server: Option<String>,
    /// The server's data directory: the admin token and the certificate to trust
    /// (default: the saved context's, else ./certfleet-data).
    #[arg(long, value_name = "DIR", env = DATA_DIR_ENV)]
    pub data_dir: Option<PathBuf>,
    /// The admin token (instead of DATA_DIR/admin.token): VALUE, pass:VALUE, env:NAME,
    /// file:PATH or - (a line of standard input); asked for when given without a value.
    #[arg(long, value_name = "SECRET", env = TOKEN_ENV, hide_env_values = true,
          value_parser = SecretParser, num_args = 0..=1, default_missing_value = ASK)]
    pub token: Option<SecretArg>,
}

/// A client from the common flags, each one falling back on the saved context
/// (`certfleet context save`) and then on its default: reads the token and the pinned
/// certificate.
pub fn admin_client(flags: &ServerFlags) -> Result<AdminClient> {
    // A data directory given explicitly is the whole answer for the token and the pin.
    let saved = match (&flags.data_dir, context_dir()) {
        (None, Some(dir)) => ClientContext::load(&dir)?,
        _ => None,
    };
    let data_dir = flags.data_dir.clone().unwrap_or_else(|| {
        saved
            .as_ref()
            .and_then(|c| c.saved.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    });
    let server = flags
        .server
        .clone()
        .or_else(|| saved.as_ref().map(|c| c.saved.server.clone()))
        .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
    let saved_token = saved
        .as_ref()
        .map(ClientContext::token)
        .transpose()?
        .flatten();
    let token = match (&flags.token, saved_token) {
        (Some(token), _) => Zeroizing::new(token.expose()?.trim().to_owned()),
        (None, Some(token)) => token,
        (None, None) => {
            let path = data_dir.join("admin.token");
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "{}: cannot read the admin token (give --token or --data-dir, set {TOKEN_ENV} or {DATA_DIR_ENV}, or save a context with `certfleet context save`)",
                    path.display()
                )
            })?;
            Zeroizing::new(text.trim().to_owned())
        }
    };
    if token.is_empty() {
        bail!("the admin token is empty (give --token or --data-dir)");
    }

    let pinned_path = match &saved {
        Some(context) => context.pinned_file(),
        None => data_dir.join("default.pem"),
    };
    let pinned = read_pinned(&pinned_path)?;
    AdminClient::connect(&server, token, pinned)
}

/// The certificates of the admin listener's pinned PEM file.
pub fn read_pinned(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).with_context(|| {
        format!(
            "{}: cannot read the certificate of the admin listener (give --data-dir)",
            path.display()
        )
    })?;
    let pinned: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|err| anyhow!("{}: {err}", path.display()))?;
    if pinned.is_empty() {
        bail!("{}: holds no certificate", path.display());
    }
    Ok(pinned)
}
