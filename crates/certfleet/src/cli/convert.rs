//! `certfleet convert`: any key, certificate, CSR, bundle or keystore in, the format a
//! service reads out.
//!
//! The input's format comes from its content (PEM of any kind, DER certificate, CSR or
//! key, encrypted PKCS#8, PKCS#12, JKS). Everything is read into one
//! [`Bundle`] (key, leaf, chain in issuer order) or a CSR, then written in the format
//! asked for, atomically, with mode 0600 whenever the output holds a private key.

mod keystores;

use super::output::report_written;
use super::secret_arg::{SecretArg, SecretParser, ASK};
use super::Outcome;
use anyhow::{bail, Context, Result};
use certfleet_formats::{encrypted_key, pem};
use certfleet_pki::bundle::{self, Bundle};
use certfleet_pki::certs::to_pem;
use certfleet_platform::files::{read_input, Mode, OutputSet};
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use zeroize::Zeroizing;

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
    fn is_keystore(self) -> bool {
        matches!(
            self,
            Format::Pkcs12 | Format::Jks | Format::Pkcs12Trust | Format::JksTrust
        )
    }
}

/// What `convert` writes: the bytes and who may read them.
struct Output {
    bytes: Zeroizing<Vec<u8>>,
    mode: Mode,
}

impl Output {
    fn public(bytes: impl Into<Vec<u8>>) -> Self {
        Output {
            bytes: Zeroizing::new(bytes.into()),
            mode: Mode::Public,
        }
    }

    fn secret(bytes: impl Into<Vec<u8>>) -> Self {
        Output {
            bytes: Zeroizing::new(bytes.into()),
            mode: Mode::Secret,
        }
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
            Contents::Request(der) => self.write_request(&der),
            Contents::Bundle(input) => self.write_bundle(input.bundle, input.alias.as_deref()),
        }
        .with_context(|| format!("{name} → --to {}", self.format_name()))?;
        let mut set = OutputSet::default();
        set.add(&self.out, output.bytes.as_slice(), output.mode);
        report_written(&set.commit()?);
        Ok(Outcome::Success)
    }

    fn format_name(&self) -> String {
        self.to
            .to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }

    /// Flag combinations that cannot make sense, refused before any file is read.
    fn check_flags(&self) -> Result<()> {
        if self.legacy && !matches!(self.to, Format::Pkcs12 | Format::Pkcs12Trust) {
            bail!("--legacy applies to --to pkcs12 and pkcs12-trust only");
        }
        if self.to.is_keystore() && self.password.is_none() {
            bail!(
                "--to {} needs --password (the keystore password)",
                self.format_name()
            );
        }
        if self.password.is_some() && matches!(self.to, Format::Pkcs1 | Format::Sec1) {
            bail!("--password: PKCS#1 and SEC1 keys are written unencrypted; use --to pkcs8 for an encrypted key");
        }
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

    fn read_contents(&self, bytes: &[u8]) -> Result<Contents<InputBundle>> {
        if let Some(format) = certfleet_formats::keystore::detect(bytes) {
            let asked;
            let password = match self.in_password()? {
                Some(password) => password,
                None if std::io::stdin().is_terminal() => {
                    asked = SecretArg::missing("--in-password");
                    asked.expose()?
                }
                None => bail!("a {format} keystore; give its password with --in-password"),
            };
            return keystores::read(bytes, password, self.alias.as_deref()).map(Contents::Bundle);
        }
        let (contents, mislabelled) =
            bundle::read_noting(bytes, self.in_password()?).map_err(|err| {
                let hint = if self.in_password.is_none()
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
        Ok(match contents {
            bundle::Contents::Bundle(bundle) => Contents::Bundle(InputBundle {
                bundle,
                alias: None,
            }),
            bundle::Contents::Request(der) => Contents::Request(der),
        })
    }

    fn write_request(&self, der: &[u8]) -> Result<Output> {
        match self.to {
            Format::Pem => Ok(Output::public(pem::encode("CERTIFICATE REQUEST", der))),
            Format::Der => Ok(Output::public(der)),
            _ => bail!("the input is a CSR; it converts to pem or der only"),
        }
    }

    fn write_bundle(&self, input: Bundle, input_alias: Option<&str>) -> Result<Output> {
        let password = self.out_password()?;
        let has_certs = input.leaf.is_some();
        match self.to {
            Format::Pem if has_certs => {
                if input.key.is_some() {
                    eprintln!("note: --to pem writes the certificates only; the private key is left out (use --to merged or --to pkcs8)");
                }
                Ok(Output::public(to_pem(&input.certificates())))
            }
            Format::Der if has_certs => {
                if !input.chain.is_empty() || !input.unrelated.is_empty() || input.key.is_some() {
                    eprintln!("note: --to der writes the leaf certificate only");
                }
                let leaf = input.leaf.as_ref().map(|c| c.to_vec()).unwrap_or_default();
                Ok(Output::public(leaf))
            }
            Format::Pem | Format::Pkcs8 => {
                let key = require_key(&input)?;
                let text = match password {
                    Some(p) => {
                        pem::encode(encrypted_key::PEM_LABEL, &key.to_encrypted_pkcs8_der(p)?)
                    }
                    None => key.to_pem().to_string(),
                };
                Ok(Output::secret(Zeroizing::new(text).as_bytes()))
            }
            Format::Der => {
                let key = require_key(&input)?;
                Ok(match password {
                    Some(p) => Output::secret(key.to_encrypted_pkcs8_der(p)?),
                    None => Output::secret(key.pkcs8_der()),
                })
            }
            Format::Pkcs1 => {
                let der = require_key(&input)?.to_pkcs1_der()?;
                let text = Zeroizing::new(pem::encode("RSA PRIVATE KEY", &der));
                Ok(Output::secret(text.as_bytes()))
            }
            Format::Sec1 => {
                let der = require_key(&input)?.to_sec1_der()?;
                let text = Zeroizing::new(pem::encode("EC PRIVATE KEY", &der));
                Ok(Output::secret(text.as_bytes()))
            }
            Format::Merged => {
                let text = input.to_merged_pem(password)?;
                Ok(Output::secret(text.as_bytes()))
            }
            Format::Pkcs12 | Format::Jks | Format::Pkcs12Trust | Format::JksTrust => {
                let target = keystores::Target {
                    format: self.to,
                    password: password.unwrap_or_default(),
                    alias: self.alias.as_deref().or(input_alias),
                    legacy: self.legacy,
                };
                let (bytes, holds_key) = keystores::write(&input, &target)?;
                let mode = if holds_key {
                    Mode::Secret
                } else {
                    Mode::Public
                };
                Ok(Output { bytes, mode })
            }
        }
    }
}

/// A bundle read from the input, with the alias it had when it came from a keystore.
pub(super) struct InputBundle {
    bundle: Bundle,
    alias: Option<String>,
}

/// A CSR or a bundle (this module's own shape of [`bundle::Contents`]).
enum Contents<B> {
    Bundle(B),
    Request(Vec<u8>),
}

fn require_key(input: &Bundle) -> Result<&certfleet_pki::keys::PrivateKey> {
    input
        .key
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the input holds no private key"))
}
