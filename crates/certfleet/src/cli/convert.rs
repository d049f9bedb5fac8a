//! `certfleet convert`: any key, certificate, CSR, bundle or keystore in, the format a
//! service reads out.
//!
//! The input's format comes from its content (PEM of any kind, DER certificate, CSR or
//! key, encrypted PKCS#8, PKCS#12, JKS). Reading and converting are
//! `certfleet_pki::bundle` and `certfleet_pki::convert`; this module takes the flags and
//! writes the result atomically, with mode 0600 whenever the output holds a private key.

use super::output::report_written;
use super::secret_arg::{SecretArg, SecretParser, ASK};
use super::Outcome;
use anyhow::{bail, Context, Result};
use certfleet_pki::convert::{self, ConvertInput, Converted, OutputFormat, Target};
use certfleet_platform::files::{read_input, Mode, OutputSet};
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `convert`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    certfleet convert web.p12 --in-password changeit --to merged --out web.pem\n  \
    certfleet convert pasted.pem --to pkcs1 --out web.key\n  \
    certfleet convert web.pem --to jks --password changeit --alias web --out web.jks\n  \
    certfleet convert chain.pem --to pkcs12-trust --password changeit --legacy --out trust.p12")]
pub struct ConvertArgs {
    /// Input: PEM (certificates, key, CSR or merged bundle), DER, PKCS#12 or JKS.
    input: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    to: Format,
    /// Output file (replaced atomically if it exists).
    #[arg(long)]
    out: PathBuf,
    /// Password of an encrypted input key or of an input keystore: VALUE, pass:VALUE,
    /// env:NAME, file:PATH or - (a line of standard input); asked for when given without
    /// a value, or when a keystore's is left out on a terminal.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK)]
    in_password: Option<SecretArg>,
    /// Password for the output: encrypts the key (pkcs8, der, pem, merged) or protects
    /// the keystore (required for pkcs12, jks and their -trust forms). Taken like
    /// --in-password.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK)]
    password: Option<SecretArg>,
    /// Keystore alias: selects the entry of an input keystore when it has one by that
    /// name, and names the output entry (default: the input's alias, else `mykey`).
    #[arg(long)]
    alias: Option<String>,
    /// Write PKCS#12 with 3DES/RC2 and a SHA-1 MAC, for old Java and Windows.
    #[arg(long)]
    legacy: bool,
}

/// The output formats of `convert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Certificates as PEM, leaf first then chain (a key-only input: the key as PKCS#8 PEM).
    Pem,
    /// The leaf certificate as DER (a key-only input: the key as PKCS#8 DER).
    Der,
    /// The key as PKCS#8 PEM, encrypted with --password.
    Pkcs8,
    /// An RSA key as PKCS#1 PEM.
    Pkcs1,
    /// An EC key as SEC1 PEM.
    Sec1,
    /// Key, leaf and chain in one PEM file.
    Merged,
    /// PKCS#12 keystore with the key and its chain.
    Pkcs12,
    /// JKS keystore with the key and its chain.
    Jks,
    /// PKCS#12 truststore: every certificate as a trusted entry.
    #[value(name = "pkcs12-trust")]
    Pkcs12Trust,
    /// JKS truststore: every certificate as a trusted entry.
    #[value(name = "jks-trust")]
    JksTrust,
}

impl Format {
    fn output_format(self) -> OutputFormat {
        match self {
            Format::Pem => OutputFormat::Pem,
            Format::Der => OutputFormat::Der,
            Format::Pkcs8 => OutputFormat::Pkcs8,
            Format::Pkcs1 => OutputFormat::Pkcs1,
            Format::Sec1 => OutputFormat::Sec1,
            Format::Merged => OutputFormat::Merged,
            Format::Pkcs12 => OutputFormat::Pkcs12,
            Format::Jks => OutputFormat::Jks,
            Format::Pkcs12Trust => OutputFormat::Pkcs12Trust,
            Format::JksTrust => OutputFormat::JksTrust,
        }
    }

    fn is_keystore(self) -> bool {
        self.output_format().is_keystore()
    }
}

impl ConvertArgs {
    pub fn run(mut self) -> Result<Outcome> {
        if self.to.is_keystore() && self.password.is_none() && std::io::stdin().is_terminal() {
            self.password = Some(SecretArg::missing("--password"));
        }
        self.check_flags()?;
        let bytes = read_input(&self.input)?;
        let name = self.input.display().to_string();
        let output = match self.read_contents(&bytes).with_context(|| name.clone())? {
            ConvertInput::Request(der) => convert::convert_request(&der, self.to.output_format()),
            ConvertInput::Bundle(input) => convert::convert_bundle(
                &input.bundle,
                input.alias.as_deref(),
                &Target {
                    format: self.to.output_format(),
                    password: self.out_password()?,
                    alias: self.alias.as_deref(),
                    legacy: self.legacy,
                },
            ),
        }
        .with_context(|| format!("{name} → --to {}", self.format_name()))?;
        write_output(&self.out, &output)
    }

    fn format_name(&self) -> &'static str {
        self.to.output_format().name()
    }

    /// Flag combinations that cannot make sense, refused before any file is read.
    fn check_flags(&self) -> Result<()> {
        let format = self.to.output_format();
        format.check_options(self.legacy, self.password.is_some())?;
        if self.out_password()? == Some("") {
            bail!("--password must not be empty");
        }
        Ok(())
    }

    /// `--password`, read from where it says, when given.
    fn out_password(&self) -> Result<Option<&str>> {
        Ok(self.password.as_ref().map(SecretArg::expose).transpose()?)
    }

    /// `--in-password`, read from where it says, when given.
    fn in_password(&self) -> Result<Option<&str>> {
        Ok(self
            .in_password
            .as_ref()
            .map(SecretArg::expose)
            .transpose()?)
    }

    /// The input, asking for a keystore's password on a terminal when none is given.
    fn read_contents(&self, bytes: &[u8]) -> Result<ConvertInput> {
        let is_keystore = certfleet_formats::keystore::detect(bytes).is_some();
        let asked;
        let mut password = self.in_password()?;
        if is_keystore && password.is_none() && std::io::stdin().is_terminal() {
            asked = SecretArg::missing("--in-password");
            password = Some(asked.expose()?);
        }
        let (input, mislabelled) =
            convert::read_convert_input(bytes, password, self.alias.as_deref()).map_err(|err| {
                let hint = if !is_keystore
                    && self.in_password.is_none()
                    && err.to_string().contains("password is needed")
                {
                    " (give it with --in-password)"
                } else {
                    ""
                };
                anyhow::anyhow!("{err}{hint}")
            })?;
        if let Some(notice) = mislabelled {
            eprintln!("notice: {}: {notice}", self.input.display());
        }
        Ok(input)
    }
}

/// Prints the conversion's notes and writes its bytes, mode 0600 when they hold a key.
fn write_output(out: &std::path::Path, output: &Converted) -> Result<Outcome> {
    for note in &output.notes {
        eprintln!("note: {note}");
    }
    let mode = if output.secret {
        Mode::Secret
    } else {
        Mode::Public
    };
    let mut set = OutputSet::default();
    set.add(out, output.bytes.as_slice(), mode);
    report_written(&set.commit()?);
    Ok(Outcome::Success)
}
