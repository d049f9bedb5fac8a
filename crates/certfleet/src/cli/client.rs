//! The command line's side of the admin API client: the flags every client command
//! shares, and reading the token and the pinned certificate they name.
//!
//! `--server URL` (default `https://127.0.0.1:9443`), the bearer token from `--token` or
//! `DATA_DIR/admin.token`, and trust pinned to the certificate in `DATA_DIR/default.pem`.
//! Each flag may come from the environment instead ([`SERVER_ENV`], [`DATA_DIR_ENV`],
//! [`TOKEN_ENV`]); a flag given on the command line wins over its variable, and either
//! over the saved context (`certfleet context save`), which wins over the defaults.
//! Resolving them and the requests themselves are certfleet-api's
//! ([`certfleet_api::client_connect`], [`certfleet_api::client::AdminClient`]).

use super::secret_arg::{SecretArg, SecretParser, ASK};
use anyhow::Result;
pub use certfleet_api::client::AdminClient;
pub use certfleet_api::client_connect::{read_pinned, DATA_DIR_ENV, SERVER_ENV, TOKEN_ENV};
use clap::Args;
use std::path::PathBuf;
use zeroize::Zeroizing;

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
/// (`certfleet context save`) and then on its default
/// ([`certfleet_api::client_connect::connect`]).
pub fn admin_client(flags: &ServerFlags) -> Result<AdminClient> {
    certfleet_api::client_connect::connect(
        flags.server.as_deref(),
        flags.data_dir.as_deref(),
        || {
            let given = flags.token.as_ref().map(SecretArg::expose).transpose()?;
            Ok(given.map(|token| Zeroizing::new(token.trim().to_owned())))
        },
    )
}
