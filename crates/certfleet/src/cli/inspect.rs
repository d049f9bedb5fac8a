//! `certfleet inspect`: what a file holds. Keystores (JKS, PKCS#12) are described in
//! [`keystore`], entry by entry.

mod keystore;

use super::output::print_answer;
use super::secret_arg::{SecretArg, SecretParser, ASK};
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_pki::inspect::inspect_bytes;
use certfleet_platform::files::read_input;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `inspect`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  certfleet inspect web.pem\n  certfleet inspect web.crt --json | jq -r '.certificates[0].sha1_thumbprint'\n  certfleet inspect server.jks --password changeit --json | jq '.entries[].alias'"
)]
pub struct InspectArgs {
    /// Certificate, chain, CSR, key, merged bundle (PEM or DER), or JKS/PKCS#12 keystore.
    file: PathBuf,
    /// Password of a keystore (JKS or PKCS#12) or an encrypted key: VALUE, pass:VALUE,
    /// env:NAME, file:PATH or - (a line of standard input); asked for when given without
    /// a value, or when a keystore's is left out on a terminal.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK)]
    password: Option<SecretArg>,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

impl InspectArgs {
    pub fn run(self) -> Result<Outcome> {
        let bytes = read_input(&self.file)?;
        let now = time::OffsetDateTime::now_utc();
        let password = self.password.as_ref().map(SecretArg::expose).transpose()?;
        if keystore::is_keystore(&bytes) {
            let asked;
            let password = match password {
                None if std::io::stdin().is_terminal() => {
                    asked = SecretArg::missing("--password");
                    Some(asked.expose()?)
                }
                given => given,
            };
            let inspection = keystore::inspect(&self.file, &bytes, password, now)?;
            print_answer(self.json, &inspection, || inspection.to_text())?;
            return Ok(Outcome::Success);
        }
        let inspection = inspect_bytes(&bytes, password, now)
            .with_context(|| self.file.display().to_string())?;
        print_answer(self.json, &inspection, || inspection.to_text())?;
        Ok(Outcome::Success)
    }
}
