//! The command line's side of the admin API client: the flags every client command
//! shares, and reading the token and the pinned certificate they name.
//!
//! `--server URL` (default `https://127.0.0.1:9443`), the bearer token from `--token` or
//! `DATA_DIR/admin.token`, and trust pinned to the certificate in `DATA_DIR/default.pem`.
//! Each flag may come from the environment instead ([`SERVER_ENV`], [`DATA_DIR_ENV`],
//! [`TOKEN_ENV`]); a flag given on the command line wins over its variable.
//! The requests themselves are [`certfleet_api::client::AdminClient`]'s.

use super::secret_arg::{SecretArg, SecretParser, ASK};
use anyhow::{anyhow, bail, Context, Result};
pub use certfleet_api::client::{path_segment, AdminClient};
use clap::Args;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The environment variable that stands for `--server`.
pub const SERVER_ENV: &str = "CERTFLEET_SERVER";
/// The environment variable that stands for `--data-dir`, on the client commands and on
/// the commands that read the master key.
pub const DATA_DIR_ENV: &str = "CERTFLEET_DATA_DIR";
/// The environment variable that stands for `--token`; `--help` never shows its value.
pub const TOKEN_ENV: &str = "CERTFLEET_TOKEN";

/// The flags every client command shares.
#[derive(Debug, Clone, Args)]
pub struct ServerFlags {
    /// The admin listener's URL.
    #[arg(long, value_name = "URL", env = SERVER_ENV, default_value = "https://127.0.0.1:9443")]
    pub server: String,
    /// The server's data directory: the admin token and the certificate to trust.
    #[arg(long, value_name = "DIR", env = DATA_DIR_ENV, default_value = "./certfleet-data")]
    pub data_dir: PathBuf,
    /// The admin token (instead of DATA_DIR/admin.token): VALUE, pass:VALUE, env:NAME,
    /// file:PATH or - (a line of standard input); asked for when given without a value.
    #[arg(long, value_name = "SECRET", env = TOKEN_ENV, hide_env_values = true,
          value_parser = SecretParser, num_args = 0..=1, default_missing_value = ASK)]
    pub token: Option<SecretArg>,
}

/// A client from the common flags: reads the token and the pinned certificate.
pub fn admin_client(flags: &ServerFlags) -> Result<AdminClient> {
    let token = match &flags.token {
        Some(token) => Zeroizing::new(token.expose()?.trim().to_owned()),
        None => {
            let path = flags.data_dir.join("admin.token");
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "{}: cannot read the admin token (give --token or --data-dir, or set {TOKEN_ENV} or {DATA_DIR_ENV})",
                    path.display()
                )
            })?;
            Zeroizing::new(text.trim().to_owned())
        }
    };
    if token.is_empty() {
        bail!("the admin token is empty (give --token or --data-dir)");
    }

    let pinned_path = flags.data_dir.join("default.pem");
    let pinned_pem = std::fs::read(&pinned_path).with_context(|| {
        format!(
            "{}: cannot read the certificate of the admin listener (give --data-dir)",
            pinned_path.display()
        )
    })?;
    let pinned: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pinned_pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|err| anyhow!("{}: {err}", pinned_path.display()))?;
    if pinned.is_empty() {
        bail!("{}: holds no certificate", pinned_path.display());
    }
    AdminClient::connect(&flags.server, token, pinned)
}
