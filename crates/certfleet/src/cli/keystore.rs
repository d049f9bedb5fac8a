//! `certfleet keystore`: keytool's steps on JKS and PKCS#12 files.
//!
//! The file's format is told from its content; `import-*` create a missing file, as JKS or
//! PKCS#12 by `--type` or the file name (`.jks`, `.p12`, `.pfx`). A rewritten PKCS#12 keeps
//! its profile (legacy when its MAC is SHA-1) unless `--legacy` asks for the old one.
//! Every write replaces the file atomically, mode 0600.

mod edit;
mod list;

use super::output::report_written;
use super::secret_arg::{SecretArg, SecretParser, ASK, MISSING};
use super::Outcome;
use anyhow::Result;
use certfleet_formats::keystore::{KeystoreFormat, OpenedKeystore};
use certfleet_platform::keystore_files::{open_keystore, open_or_create_keystore, save_keystore};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Keystore commands.
#[derive(Debug, Subcommand)]
pub enum KeystoreCommand {
    /// List the entries: alias, type, chain length, fingerprints and expiry.
    #[command(
        after_help = "Examples:\n  certfleet keystore list server.jks --password changeit\n  certfleet keystore list truststore.p12 --password changeit --json | jq -r '.entries[].alias'"
    )]
    List(list::ListArgs),
    /// Add a trusted certificate under an alias (keytool -importcert).
    #[command(
        after_help = "Example:\n  certfleet keystore import-cert client.jks --password changeit --alias root --cert ca/root.crt"
    )]
    ImportCert(edit::ImportCertArgs),
    /// Add a private key with its certificate chain under an alias.
    #[command(
        after_help = "Example:\n  certfleet keystore import-key server.jks --password changeit --alias server --key web.key --cert web.crt --chain web.chain.crt"
    )]
    ImportKey(edit::ImportKeyArgs),
    /// Remove the entry under an alias (keytool -delete).
    #[command(
        after_help = "Example:\n  certfleet keystore delete server.jks --password changeit --alias jetty"
    )]
    Delete(edit::DeleteArgs),
    /// Change the store password (keytool -storepasswd). JKS keys protected by the old
    /// store password move to the new one, so services that use one password keep working.
    #[command(
        after_help = "Example:\n  certfleet keystore passwd server.jks --password changeit --new-password 'N3w-Secret'"
    )]
    Passwd(edit::PasswdArgs),
    /// Change the password of the private keys in a JKS file (keytool -keypasswd).
    #[command(
        after_help = "Example:\n  certfleet keystore keypasswd server.jks --password storepw --key-password oldkeypw --new-key-password newkeypw"
    )]
    Keypasswd(edit::KeypasswdArgs),
    /// Export an entry's certificate (PEM, or DER with --der); optionally its chain and key.
    #[command(
        after_help = "Examples:\n  certfleet keystore export server.jks --password changeit --alias server --out server.crt\n  certfleet keystore export server.jks --password changeit --alias server --chain --key-out server.key --out server.pem"
    )]
    Export(edit::ExportArgs),
}

impl KeystoreCommand {
    pub fn run(self) -> Result<Outcome> {
        match self {
            KeystoreCommand::List(args) => args.run(),
            KeystoreCommand::ImportCert(args) => args.run(),
            KeystoreCommand::ImportKey(args) => args.run(),
            KeystoreCommand::Delete(args) => args.run(),
            KeystoreCommand::Passwd(args) => args.run(),
            KeystoreCommand::Keypasswd(args) => args.run(),
            KeystoreCommand::Export(args) => args.run(),
        }
    }
}

/// The keystore file and its passwords, common to every command.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The keystore: JKS or PKCS#12, told apart by content.
    file: PathBuf,
    /// The store password: VALUE, pass:VALUE, env:NAME, file:PATH or - (a line of
    /// standard input); asked for when given without a value, or left out on a terminal.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK, default_value = MISSING, hide_default_value = true)]
    password: SecretArg,
    /// JKS only: the password of the private keys, when it is not the store password
    /// (taken like --password).
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK)]
    key_password: Option<SecretArg>,
}

/// `--type` of a keystore that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreType {
    /// Java KeyStore.
    Jks,
    /// PKCS#12.
    Pkcs12,
}

impl StoreType {
    fn format(self) -> KeystoreFormat {
        match self {
            StoreType::Jks => KeystoreFormat::Jks,
            StoreType::Pkcs12 => KeystoreFormat::Pkcs12,
        }
    }
}

impl StoreArgs {
    fn name(&self) -> String {
        self.file.display().to_string()
    }

    /// The store password, read from where `--password` says.
    pub fn password(&self) -> Result<&str> {
        Ok(self.password.expose()?)
    }

    /// `--key-password`, read from where it says, when given.
    fn key_password(&self) -> Result<Option<&str>> {
        Ok(self
            .key_password
            .as_ref()
            .map(SecretArg::expose)
            .transpose()?)
    }

    /// Reads the existing keystore; errors name the file.
    pub fn open(&self) -> Result<OpenedKeystore> {
        open_keystore(&self.file, self.password()?, self.key_password()?)
    }

    /// Reads the keystore, or starts an empty one when the file does not exist.
    pub fn open_or_create(&self, wanted: Option<StoreType>) -> Result<OpenedKeystore> {
        open_or_create_keystore(&self.file, wanted.map(StoreType::format), || self.open())
    }

    /// Writes the keystore back atomically (mode 0600) under `password`; JKS keys under
    /// `key_password`, else `--key-password`, else the store password.
    pub fn save(
        &self,
        opened: &OpenedKeystore,
        password: &str,
        key_password: Option<&str>,
    ) -> Result<()> {
        let key_password = match key_password {
            Some(given) => Some(given),
            None => self.key_password()?,
        };
        report_written(&save_keystore(&self.file, opened, password, key_password)?);
        Ok(())
    }
}
