//! `certfleet encrypt`, `decrypt` and `secret generate|check`: `CRYPT:` values for
//! configuration files, and shared secrets under the complexity rule.

use super::Outcome;
use anyhow::{bail, Context, Result};
use certfleet_store::secrets::policy::SecretPolicy;
use certfleet_store::secrets::MasterKey;
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The data directory when none is given.
pub const DEFAULT_DATA_DIR: &str = "./certfleet-data";

/// Arguments of `encrypt`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  certfleet encrypt 'storepwd'          # prints CRYPT:...\n  printf %s \"$PW\" | certfleet encrypt -  # keeps the secret out of the process list\n\nThe master key is DATA_DIR/master.key (created, mode 0600, when missing) or CERTFLEET_MASTER_KEY."
)]
pub struct EncryptArgs {
    /// Data directory holding the master key.
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// The secret, or `-` to read it from standard input.
    #[arg(allow_hyphen_values = true)]
    value: String,
}

/// Arguments of `decrypt`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  certfleet decrypt --data-dir /var/lib/certfleet 'CRYPT:AbC...'"
)]
pub struct DecryptArgs {
    /// Data directory holding the master key.
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
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
        /// The secret, or `-` to read it from standard input.
        #[arg(allow_hyphen_values = true)]
        value: String,
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
        let value = value_or_stdin(&self.value)?;
        let key = MasterKey::load_or_create(&self.data_dir)
            .with_context(|| self.data_dir.display().to_string())?;
        println!("{}", key.seal(value.as_bytes())?);
        Ok(Outcome::Success)
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
        let plain = key
            .open(&value)
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
                let value = value_or_stdin(&value)?;
                let broken = policy.broken_rules(&value);
                if broken.is_empty() {
                    println!("ok: the secret satisfies the policy");
                    return Ok(Outcome::Success);
                }
                for rule in &broken {
                    println!("rule broken: {rule}");
                }
                Ok(Outcome::ProblemFound)
            }
        }
    }
}
