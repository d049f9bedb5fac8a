//! Conversion of a [`Bundle`] or a CSR into the output formats `certfleet convert`
//! offers: certificates as PEM or DER, the key as PKCS#8 (plain or encrypted), PKCS#1 or
//! SEC1, a merged bundle, or a PKCS#12 / JKS keystore or truststore.
//!
//! Input of any kind, told by its content, is [`read_convert_input`]; keystore input
//! alone is [`read_keystore`]. Each conversion says whether its bytes are secret
//! (they hold a private key) and gives notes on what was left out.

mod input;
mod keystores;

pub use input::{read_convert_input, ConvertInput};
pub use keystores::{key_entry, read_keystore, KeystoreBundle, DEFAULT_KEY_ALIAS};

use crate::bundle::Bundle;
use crate::certs::to_pem;
use crate::error::{PkiError, Result};
use crate::keys::PrivateKey;
use certfleet_formats::{encrypted_key, pem};
use zeroize::Zeroizing;

/// The output formats of a conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Certificates as PEM, leaf first then chain (a key-only input: the key as PKCS#8 PEM).
    Pem,
    /// The leaf certificate as DER (a key-only input: the key as PKCS#8 DER).
    Der,
    /// The key as PKCS#8 PEM, encrypted when a password is given.
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
    Pkcs12Trust,
    /// JKS truststore: every certificate as a trusted entry.
    JksTrust,
}

impl OutputFormat {
    /// The name `certfleet convert --to` gives the format.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Pem => "pem",
            OutputFormat::Der => "der",
            OutputFormat::Pkcs8 => "pkcs8",
            OutputFormat::Pkcs1 => "pkcs1",
            OutputFormat::Sec1 => "sec1",
            OutputFormat::Merged => "merged",
            OutputFormat::Pkcs12 => "pkcs12",
            OutputFormat::Jks => "jks",
            OutputFormat::Pkcs12Trust => "pkcs12-trust",
            OutputFormat::JksTrust => "jks-trust",
        }
    }

    /// Refuses the options this format cannot take, before any input is read: the legacy
    /// PKCS#12 profile for anything but PKCS#12, a keystore without a password, and a
    /// password for the key formats that cannot be encrypted.
    pub fn check_options(self, legacy: bool, password_given: bool) -> Result<()> {
        let refuse = |why: String| Err(PkiError::Invalid(why));
        if legacy && !matches!(self, OutputFormat::Pkcs12 | OutputFormat::Pkcs12Trust) {
            return refuse("--legacy applies to --to pkcs12 and pkcs12-trust only".into());
        }
        if self.is_keystore() && !password_given {
            return refuse(format!(
                "--to {} needs --password (the keystore password)",
                self.name()
            ));
        }
        if password_given && matches!(self, OutputFormat::Pkcs1 | OutputFormat::Sec1) {
            return refuse("--password: PKCS#1 and SEC1 keys are written unencrypted; use --to pkcs8 for an encrypted key".into());
        }
        Ok(())
    }

    /// True for the four keystore formats (they need a password).
    pub fn is_keystore(self) -> bool {
        matches!(
            self,
            OutputFormat::Pkcs12
                | OutputFormat::Jks
                | OutputFormat::Pkcs12Trust
                | OutputFormat::JksTrust
        )
    }
}

/// What to convert to.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The format.
    pub format: OutputFormat,
    /// Encrypts the key (pkcs8, der, pem, merged) or protects the keystore.
    pub password: Option<&'a str>,
    /// The keystore entry's alias (default: the input's, else [`DEFAULT_KEY_ALIAS`]).
    pub alias: Option<&'a str>,
    /// PKCS#12 with 3DES/RC2 and a SHA-1 MAC.
    pub legacy: bool,
}

/// The converted bytes.
pub struct Converted {
    /// The output (zeroized when dropped, as it may hold a key).
    pub bytes: Zeroizing<Vec<u8>>,
    /// True when the bytes hold a private key (to be written mode 0600).
    pub secret: bool,
    /// What the conversion left out, one sentence each.
    pub notes: Vec<String>,
}

impl Converted {
    fn public(bytes: impl Into<Vec<u8>>) -> Self {
        Converted {
            bytes: Zeroizing::new(bytes.into()),
            secret: false,
            notes: Vec::new(),
        }
    }

    fn secret(bytes: impl Into<Vec<u8>>) -> Self {
        Converted {
            bytes: Zeroizing::new(bytes.into()),
            secret: true,
            notes: Vec::new(),
        }
    }

    fn noting(mut self, note: &str) -> Self {
        self.notes.push(note.to_owned());
        self
    }
}

/// Converts a CSR (DER): to PEM or DER only.
pub fn convert_request(der: &[u8], format: OutputFormat) -> Result<Converted> {
    match format {
        OutputFormat::Pem => Ok(Converted::public(pem::encode("CERTIFICATE REQUEST", der))),
        OutputFormat::Der => Ok(Converted::public(der)),
        _ => Err(PkiError::RequestConversion),
    }
}

/// Converts a bundle; `input_alias` is the alias it had in an input keystore.
pub fn convert_bundle(
    input: &Bundle,
    input_alias: Option<&str>,
    target: &Target<'_>,
) -> Result<Converted> {
    let password = target.password;
    let has_certs = input.leaf.is_some();
    match target.format {
        OutputFormat::Pem if has_certs => {
            let converted = Converted::public(to_pem(&input.certificates()));
            Ok(if input.key.is_some() {
                converted.noting("--to pem writes the certificates only; the private key is left out (use --to merged or --to pkcs8)")
            } else {
                converted
            })
        }
        OutputFormat::Der if has_certs => {
            let leaf = input.leaf.as_ref().map(|c| c.to_vec()).unwrap_or_default();
            let converted = Converted::public(leaf);
            Ok(
                if !input.chain.is_empty() || !input.unrelated.is_empty() || input.key.is_some() {
                    converted.noting("--to der writes the leaf certificate only")
                } else {
                    converted
                },
            )
        }
        OutputFormat::Pem | OutputFormat::Pkcs8 => {
            let key = require_key(input)?;
            let text = match password {
                Some(p) => pem::encode(encrypted_key::PEM_LABEL, &key.to_encrypted_pkcs8_der(p)?),
                None => key.to_pem().to_string(),
            };
            Ok(Converted::secret(Zeroizing::new(text).as_bytes()))
        }
        OutputFormat::Der => {
            let key = require_key(input)?;
            Ok(match password {
                Some(p) => Converted::secret(key.to_encrypted_pkcs8_der(p)?),
                None => Converted::secret(key.pkcs8_der()),
            })
        }
        OutputFormat::Pkcs1 => {
            let der = require_key(input)?.to_pkcs1_der()?;
            let text = Zeroizing::new(pem::encode("RSA PRIVATE KEY", &der));
            Ok(Converted::secret(text.as_bytes()))
        }
        OutputFormat::Sec1 => {
            let der = require_key(input)?.to_sec1_der()?;
            let text = Zeroizing::new(pem::encode("EC PRIVATE KEY", &der));
            Ok(Converted::secret(text.as_bytes()))
        }
        OutputFormat::Merged => {
            let text = input.to_merged_pem(password)?;
            Ok(Converted::secret(text.as_bytes()))
        }
        OutputFormat::Pkcs12
        | OutputFormat::Jks
        | OutputFormat::Pkcs12Trust
        | OutputFormat::JksTrust => keystores::write_keystore(input, input_alias, target),
    }
}

fn require_key(input: &Bundle) -> Result<&PrivateKey> {
    input.key.as_ref().ok_or(PkiError::NoPrivateKey)
}

#[cfg(test)]
mod tests;
