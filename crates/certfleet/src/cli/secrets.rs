//! `certfleet encrypt`, `decrypt` and `secret generate|check`: `CRYPT:` values for
//! configuration files (bound to their field with `encrypt --for`), and shared secrets
//! under the complexity rule. The secret to seal or check is taken like every password
//! ([`super::secret_arg`]). `encrypt --jetty-obf` writes Jetty's `OBF:` form instead
//! (obfuscation for Jetty's own configuration files, no master key involved).

use super::client::DATA_DIR_ENV;
use super::secret_arg::{SecretArg, SecretParser};
use super::Outcome;
use anyhow::{bail, Context, Result};
use certfleet_formats::jetty_obf;
use certfleet_secrets::policy::{check_text, SecretPolicy};
use certfleet_secrets::{check_field, MasterKey, MASTER_KEY_ENV, MASTER_KEY_FILE};
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The data directory when none is given.
pub const DEFAULT_DATA_DIR: &str = "./certfleet-data";

/// Arguments of `encrypt`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  certfleet encrypt --for route.basic_auth_password env:GW_PASSWORD  # prints CRYPT:...\n  printf '%s\\n' \"$PW\" | certfleet encrypt --for service.output.password -\n  certfleet encrypt 'storepwd'   # unbound: opens in any field\n  certfleet encrypt --jetty-obf env:STORE_PW   # prints OBF:... for a Jetty configuration file\n\nFIELD is the key path of the value in the server's configuration or the platform model,\nwithout array positions: route.basic_auth_password, route.upstream_trust_password,\nservice.output.password, service.output.key_password, ... A value sealed for one field\ndoes not open in another.\n\nThe master key is DATA_DIR/master.key or CERTFLEET_MASTER_KEY. A new key is created\n(mode 0600) only in a data directory named by --data-dir or CERTFLEET_DATA_DIR, never in\nthe default ./certfleet-data unasked."
)]
pub struct EncryptArgs {
    /// Data directory holding the master key [default: ./certfleet-data]; a new key is
    /// created there when missing only if it is given here or in CERTFLEET_DATA_DIR.
    #[arg(long, value_name = "DIR", env = DATA_DIR_ENV)]
    data_dir: Option<PathBuf>,
    /// Bind the value to this field: it then opens only there.
    #[arg(long = "for", value_name = "FIELD")]
    field: Option<String>,
    /// Print Jetty's OBF: form (what Jetty's Password tool prints) instead of a CRYPT:
    /// value. Obfuscation only: anyone can read the password back from it.
    #[arg(long, conflicts_with = "field")]
    jetty_obf: bool,
    /// The secret: VALUE, pass:VALUE, env:NAME, file:PATH or - (a line of standard input).
    #[arg(allow_hyphen_values = true, value_parser = SecretParser)]
    value: SecretArg,
}

/// Arguments of `decrypt`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  certfleet decrypt --data-dir /var/lib/certfleet 'CRYPT:AbC...'"
)]
pub struct DecryptArgs {
    /// Data directory holding the master key.
    #[arg(long, value_name = "DIR", env = DATA_DIR_ENV, default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Open it only if it may be read from this field (as the server and apply do).
    #[arg(long = "for", value_name = "FIELD")]
    field: Option<String>,
    /// The `CRYPT:` value, or `-` to read it from standard input.
    #[arg(allow_hyphen_values = true)]
    value: String,
}

/// Shared-secret commands.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Print a random secret that satisfies the policy.
    #[command(after_help = "Example:\n  certfleet secret generate --length 24")]
    Generate {
        /// Number of characters (8 to 64).
        #[arg(long, default_value_t = 20)]
        length: usize,
    },
    /// Check a secret against the policy; exit 1 naming each rule broken.
    #[command(
        after_help = "Example:\n  certfleet secret check 'Str0ng!pass'\n\nRule: 8 to 64 characters, with an upper-case letter, a lower-case letter, a digit and a special character."
    )]
    Check {
        /// The secret: VALUE, pass:VALUE, env:NAME, file:PATH or - (a line of standard
        /// input).
        #[arg(allow_hyphen_values = true, value_parser = SecretParser)]
        value: SecretArg,
    },
}

fn value_or_stdin(value: &str) -> Result<Zeroizing<String>> {
    if value != "-" {
        return Ok(Zeroizing::new(value.to_owned()));
    }
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the value from standard input")?;
    let trimmed = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned());
    Ok(trimmed)
}

impl EncryptArgs {
    pub fn run(self) -> Result<Outcome> {
        if self.jetty_obf {
            let value = self.value.expose()?;
            println!("{}", jetty_obf::obfuscate(value));
            return Ok(Outcome::Success);
        }
        if let Some(field) = &self.field {
            check_field(field).context("--for")?;
        }
        let value = self.value.expose()?;
        let key = self.master_key()?;
        let sealed = match &self.field {
            Some(field) => key.seal_for(value.as_bytes(), field)?,
            None => key.seal(value.as_bytes())?,
        };
        println!("{sealed}");
        Ok(Outcome::Success)
    }
}

impl EncryptArgs {
    /// The master key to seal with. It is created when missing only in a data directory
    /// named on purpose (`--data-dir` or [`DATA_DIR_ENV`]): a key made silently in
    /// whatever directory the command ran from would seal values no server can open.
    fn master_key(&self) -> Result<MasterKey> {
        if let Some(dir) = &self.data_dir {
            return MasterKey::load_or_create(dir).with_context(|| dir.display().to_string());
        }
        let default = Path::new(DEFAULT_DATA_DIR);
        match MasterKey::load(default).with_context(|| default.display().to_string())? {
            Some(key) => Ok(key),
            None => bail!(
                "no master key in {} (looked for {}) and {MASTER_KEY_ENV} is not set: give the \
                 server's data directory with --data-dir DIR or {DATA_DIR_ENV}, or create a new key \
                 there on purpose with `certfleet encrypt --data-dir DIR ...`",
                default.display(),
                default.join(MASTER_KEY_FILE).display()
            ),
        }
    }
}

impl DecryptArgs {
    pub fn run(self) -> Result<Outcome> {
        let value = value_or_stdin(&self.value)?;
        let Some(key) =
            MasterKey::load(&self.data_dir).with_context(|| self.data_dir.display().to_string())?
        else {
            bail!(
                "{}: no master key here (and CERTFLEET_MASTER_KEY is not set)",
                self.data_dir.display()
            );
        };
        let plain = match &self.field {
            Some(field) => key.open_for(&value, field),
            None => key.open(&value),
        }
        .with_context(|| format!("{}", self.data_dir.display()))?;
        let text = std::str::from_utf8(&plain).context("the value does not decrypt to text")?;
        println!("{text}");
        Ok(Outcome::Success)
    }
}

impl SecretCommand {
    pub fn run(self) -> Result<Outcome> {
        let policy = SecretPolicy::default();
        match self {
            SecretCommand::Generate { length } => {
                println!("{}", policy.generate(length)?);
                Ok(Outcome::Success)
            }
            SecretCommand::Check { value } => {
                let broken = policy.broken_rules(value.expose()?);
                print!("{}", check_text(&broken));
                Ok(if broken.is_empty() {
                    Outcome::Success
                } else {
                    Outcome::ProblemFound
                })
            }
        }
    }
}
