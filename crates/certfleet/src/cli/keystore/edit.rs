//! The keystore commands that change a file or copy something out of it: `import-cert`,
//! `import-key`, `delete`, `passwd`, `keypasswd` and `export`.

use super::{StoreArgs, StoreType};
use crate::cli::output::report_written;
use crate::cli::secret_arg::{SecretArg, SecretParser, ASK, MISSING};
use crate::cli::Outcome;
use anyhow::{bail, Context, Result};
use certfleet_formats::keystore::{CertificateExport, Entry};
use certfleet_pki::bundle::from_parts;
use certfleet_pki::certs::parse_single_certificate;
use certfleet_pki::convert::key_entry;
use certfleet_platform::files::{read_input, Mode, OutputSet};
use certfleet_platform::pki_files::{read_certificates, read_private_key};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `keystore import-cert`.
#[derive(Debug, Args)]
pub struct ImportCertArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Alias of the new entry.
    #[arg(long)]
    alias: String,
    /// The certificate to trust: PEM or DER, exactly one.
    #[arg(long)]
    cert: PathBuf,
    /// Type of a keystore that does not exist yet (default: from the name, .jks/.p12/.pfx).
    #[arg(long = "type", value_enum)]
    store_type: Option<StoreType>,
    /// Write PKCS#12 with 3DES/RC2 and a SHA-1 MAC, for old Java and Windows.
    #[arg(long)]
    legacy: bool,
}

/// Arguments of `keystore import-key`.
#[derive(Debug, Args)]
pub struct ImportKeyArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Alias of the new entry.
    #[arg(long)]
    alias: String,
    /// The private key: PEM or DER (PKCS#8, PKCS#1, SEC1), or a merged bundle.
    #[arg(long)]
    key: PathBuf,
    /// The key's certificate; it may be followed by its chain.
    #[arg(long)]
    cert: PathBuf,
    /// The issuing chain (intermediates and root), in any order.
    #[arg(long)]
    chain: Option<PathBuf>,
    /// Type of a keystore that does not exist yet (default: from the name, .jks/.p12/.pfx).
    #[arg(long = "type", value_enum)]
    store_type: Option<StoreType>,
    /// Write PKCS#12 with 3DES/RC2 and a SHA-1 MAC, for old Java and Windows.
    #[arg(long)]
    legacy: bool,
}

/// Arguments of `keystore delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Alias of the entry to remove.
    #[arg(long)]
    alias: String,
}

/// Arguments of `keystore passwd`.
#[derive(Debug, Args)]
pub struct PasswdArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The new store password (taken like --password; asked twice on a terminal).
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK, default_value = MISSING, hide_default_value = true)]
    new_password: SecretArg,
}

/// Arguments of `keystore keypasswd`.
#[derive(Debug, Args)]
pub struct KeypasswdArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The new password of the private keys (taken like --password; asked twice on a
    /// terminal).
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK, default_value = MISSING, hide_default_value = true)]
    new_key_password: SecretArg,
}

/// Arguments of `keystore export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Alias of the entry.
    #[arg(long)]
    alias: String,
    /// Write the certificate as DER instead of PEM.
    #[arg(long, conflicts_with = "chain")]
    der: bool,
    /// Also write the rest of a key entry's chain after its certificate (PEM).
    #[arg(long)]
    chain: bool,
    /// Also write the entry's private key here (PKCS#8 PEM, mode 0600).
    #[arg(long)]
    key_out: Option<PathBuf>,
    /// Where to write the certificate.
    #[arg(long)]
    out: PathBuf,
}

impl ImportCertArgs {
    pub fn run(self) -> Result<Outcome> {
        let cert = parse_single_certificate(&read_input(&self.cert)?)
            .with_context(|| self.cert.display().to_string())?;
        let mut opened = self.store.open_or_create(self.store_type)?;
        let entry = Entry::Trusted {
            alias: self.alias.clone(),
            cert_der: cert.to_vec(),
        };
        opened
            .use_legacy(self.legacy)
            .and_then(|()| opened.add(entry))
            .with_context(|| self.store.name())?;
        self.store.save(&opened, self.store.password()?, None)?;
        Ok(Outcome::Success)
    }
}

impl ImportKeyArgs {
    pub fn run(self) -> Result<Outcome> {
        let key = read_private_key(&self.key)?;
        let mut certs = read_certificates(&self.cert)?;
        if let Some(chain) = &self.chain {
            certs.extend(read_certificates(chain)?);
        }
        let bundle = from_parts(Some(key), certs)
            .with_context(|| format!("{} and {}", self.key.display(), self.cert.display()))?;
        if !bundle.unrelated.is_empty() {
            eprintln!(
                "note: left out {} certificate(s) that are not in the key's chain",
                bundle.unrelated.len()
            );
        }
        let Some(entry) = key_entry(&self.alias, &bundle) else {
            bail!("{}: no certificate for the key", self.cert.display());
        };
        let mut opened = self.store.open_or_create(self.store_type)?;
        opened
            .use_legacy(self.legacy)
            .and_then(|()| opened.add(entry))
            .with_context(|| self.store.name())?;
        self.store.save(&opened, self.store.password()?, None)?;
        Ok(Outcome::Success)
    }
}

impl DeleteArgs {
    pub fn run(self) -> Result<Outcome> {
        let mut opened = self.store.open()?;
        opened
            .delete(&self.alias)
            .with_context(|| self.store.name())?;
        self.store.save(&opened, self.store.password()?, None)?;
        Ok(Outcome::Success)
    }
}

impl PasswdArgs {
    pub fn run(self) -> Result<Outcome> {
        let opened = self.store.open()?;
        let new_password = self.new_password.expose()?;
        if new_password.is_empty() {
            bail!("--new-password: may not be empty");
        }
        self.store.save(&opened, new_password, None)?;
        Ok(Outcome::Success)
    }
}

impl KeypasswdArgs {
    pub fn run(self) -> Result<Outcome> {
        let opened = self.store.open()?;
        let new_key_password = self.new_key_password.expose()?;
        if new_key_password.is_empty() {
            bail!("--new-key-password: may not be empty");
        }
        opened
            .require_key_passwords()
            .with_context(|| self.store.name())?;
        self.store
            .save(&opened, self.store.password()?, Some(new_key_password))?;
        Ok(Outcome::Success)
    }
}

impl ExportArgs {
    pub fn run(self) -> Result<Outcome> {
        let opened = self.store.open()?;
        let how = match (self.der, self.chain) {
            (true, _) => CertificateExport::Der,
            (false, false) => CertificateExport::Pem,
            (false, true) => CertificateExport::PemWithChain,
        };
        let certs = opened
            .export_certificates(&self.alias, how)
            .with_context(|| self.store.name())?;
        let mut set = OutputSet::default();
        set.add(&self.out, certs, Mode::Public);
        if let Some(key_out) = &self.key_out {
            let key_pem = opened
                .export_key_pem(&self.alias)
                .with_context(|| self.store.name())?;
            set.add(key_out, key_pem.as_bytes(), Mode::Secret);
        }
        report_written(&set.commit()?);
        Ok(Outcome::Success)
    }
}
