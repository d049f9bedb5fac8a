//! Trust anchors certfleet did not issue: the CA certificates a service's
//! `[[service.trust]]` tables name by file (an Elasticsearch cluster's `http_ca.crt`, a
//! Configuration Server's CA, the whole chain of a third-party HTTPS target). They are
//! read here (PEM, DER, JKS or PKCS#12, a keystore opened with its `password`, plain or
//! `CRYPT:`), added to the service's trust set with the model's `why`, and so written into
//! every truststore output of the service. A file that cannot be read, holds no
//! certificate, holds a private key, or does not open with its password is an error
//! naming the model file, the line, the key and the file.

use crate::ca::anchor;
use crate::error::{PlatformError, Result};
use crate::paths::Layout;
use crate::spec::{Platform, Service};
use crate::trust::{Anchor, TrustSet};
use certfleet_formats::keystore::{self, Entry, KeystoreFormat};
use certfleet_formats::pem;
use certfleet_pki::certs::parse_certificates;
use certfleet_secrets::{resolve_for, MasterKey};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// How a trust file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustFileFormat {
    /// One or more PEM `CERTIFICATE` blocks.
    Pem,
    /// One DER certificate.
    Der,
    /// A Java KeyStore of trusted certificates.
    Jks,
    /// A PKCS#12 file of trusted certificates.
    Pkcs12,
}

impl TrustFileFormat {
    /// Every format, in the model's order.
    pub const ALL: [TrustFileFormat; 4] = [
        TrustFileFormat::Pem,
        TrustFileFormat::Der,
        TrustFileFormat::Jks,
        TrustFileFormat::Pkcs12,
    ];

    /// The model's spelling.
    pub fn name(self) -> &'static str {
        match self {
            TrustFileFormat::Pem => "pem",
            TrustFileFormat::Der => "der",
            TrustFileFormat::Jks => "jks",
            TrustFileFormat::Pkcs12 => "pkcs12",
        }
    }

    /// Parses the model's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == text)
    }

    /// Keystores, which open with a password.
    pub fn is_keystore(self) -> bool {
        matches!(self, TrustFileFormat::Jks | TrustFileFormat::Pkcs12)
    }

    /// The format of `bytes` told from their content.
    fn detect(bytes: &[u8]) -> Self {
        match keystore::detect(bytes) {
            Some(KeystoreFormat::Jks) => TrustFileFormat::Jks,
            Some(KeystoreFormat::Pkcs12) => TrustFileFormat::Pkcs12,
            None if pem::looks_like_pem(bytes) => TrustFileFormat::Pem,
            None => TrustFileFormat::Der,
        }
    }
}

/// One `[[service.trust]]` table, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustFile {
    /// The file as written in the model.
    pub file: String,
    /// Its format, when the model says; else told from the content.
    pub format: Option<TrustFileFormat>,
    /// A keystore's password as written (plain or `CRYPT:`).
    pub password: Option<String>,
    /// Why the service trusts it, shown in the report.
    pub why: String,
    /// The line of the table's `file`, for messages.
    pub line: usize,
    /// The line of its `password` (of `file` when there is none).
    pub password_line: usize,
}

/// The certificates one trust file brought.
#[derive(Debug, Clone)]
pub struct ListedAnchors {
    /// The file read (placed as outputs are: re-rooted under `--root`).
    pub file: String,
    /// The model's `why`.
    pub why: String,
    /// Its certificates, in file order.
    pub anchors: Vec<Anchor>,
}

/// What reading trust files needs: the model's name for messages, where paths lead, the
/// master key for `CRYPT:` passwords and the time anchors are described at.
pub struct Reader<'a> {
    /// The model file as named, for errors.
    pub model_file: &'a str,
    /// Where the model's paths lead.
    pub layout: &'a Layout,
    /// For `CRYPT:` passwords.
    pub master_key: Option<&'a MasterKey>,
    /// When.
    pub now: OffsetDateTime,
}

impl Reader<'_> {
    fn error(&self, listed: &TrustFile, key: &str, message: String) -> PlatformError {
        let line = if key.ends_with("password") {
            listed.password_line
        } else {
            listed.line
        };
        PlatformError::Model {
            file: self.model_file.to_owned(),
            line,
            key: key.to_owned(),
            message,
        }
    }

    /// The certificates of every trust file of every service, by service name (services
    /// without trust files are left out).
    pub fn platform(&self, platform: &Platform) -> Result<BTreeMap<String, Vec<ListedAnchors>>> {
        let mut all = BTreeMap::new();
        for service in &platform.services {
            if !service.trust_files.is_empty() {
                all.insert(service.name.clone(), self.service(service)?);
            }
        }
        Ok(all)
    }

    /// The certificates of `service`'s trust files, in model order.
    pub fn service(&self, service: &Service) -> Result<Vec<ListedAnchors>> {
        service
            .trust_files
            .iter()
            .map(|listed| self.read(listed))
            .collect()
    }

    /// The certificates of one trust file.
    pub fn read(&self, listed: &TrustFile) -> Result<ListedAnchors> {
        let path = self
            .layout
            .place(&listed.file)
            .map_err(|e| self.error(listed, "service.trust.file", e.to_string()))?;
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| {
            self.error(
                listed,
                "service.trust.file",
                format!("cannot read {shown}: {e}"),
            )
        })?;
        let format = listed
            .format
            .unwrap_or_else(|| TrustFileFormat::detect(&bytes));
        let ders: Vec<Vec<u8>> = if format.is_keystore() {
            self.keystore_certificates(listed, &shown, &bytes, format)?
        } else {
            if format == TrustFileFormat::Pem && holds_private_key(&bytes) {
                return Err(self.error(
                    listed,
                    "service.trust.file",
                    format!("{shown} holds a private key; a trust file holds certificates only (keep the key out of it)"),
                ));
            }
            if listed.password.is_some() {
                return Err(self.error(
                    listed,
                    "service.trust.password",
                    format!(
                        "{shown} is {}, which has no password; leave password out",
                        format.name()
                    ),
                ));
            }
            parse_certificates(&bytes)
                .map_err(|e| {
                    self.error(
                        listed,
                        "service.trust.file",
                        format!("{shown} is not a {} certificate file: {e}", format.name()),
                    )
                })?
                .into_iter()
                .map(|c| c.as_ref().to_vec())
                .collect()
        };
        Ok(ListedAnchors {
            file: shown,
            why: listed.why.clone(),
            anchors: ders
                .iter()
                .map(|der| anchor(&der.as_slice().into(), self.now))
                .collect(),
        })
    }

    /// The trusted certificates of a JKS or PKCS#12 trust file.
    fn keystore_certificates(
        &self,
        listed: &TrustFile,
        shown: &str,
        bytes: &[u8],
        format: TrustFileFormat,
    ) -> Result<Vec<Vec<u8>>> {
        let Some(written) = &listed.password else {
            return Err(self.error(
                listed,
                "service.trust.password",
                format!(
                    "{shown} is a {} keystore: give its password (plain or CRYPT:)",
                    format.name()
                ),
            ));
        };
        let password = resolve_for(written, self.master_key, "service.trust.password")
            .map_err(|e| self.error(listed, "service.trust.password", e.to_string()))?;
        let (found, store) = keystore::read(bytes, &password).map_err(|e| {
            let key = match e {
                certfleet_formats::FormatError::WrongPassword => "service.trust.password",
                _ => "service.trust.file",
            };
            self.error(listed, key, format!("{shown}: {e}"))
        })?;
        let wanted = match format {
            TrustFileFormat::Jks => KeystoreFormat::Jks,
            _ => KeystoreFormat::Pkcs12,
        };
        if found != wanted {
            return Err(self.error(
                listed,
                "service.trust.format",
                format!(
                    "{shown} is a {found} keystore, not {}; fix format or leave it out",
                    format.name()
                ),
            ));
        }
        let mut ders = Vec::new();
        for entry in &store.entries {
            match entry {
                Entry::Trusted { cert_der, .. } => ders.push(cert_der.clone()),
                Entry::PrivateKey { alias, .. } => {
                    return Err(self.error(
                        listed,
                        "service.trust.file",
                        format!("{shown} holds the private key entry '{alias}'; name a truststore (trusted certificates only)"),
                    ))
                }
            }
        }
        if ders.is_empty() {
            return Err(self.error(
                listed,
                "service.trust.file",
                format!("{shown} holds no trusted certificate"),
            ));
        }
        Ok(ders)
    }
}

/// True when PEM `bytes` hold a private key block.
fn holds_private_key(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    pem::decode_blocks(&text)
        .map(|blocks| blocks.iter().any(|b| b.label.contains("PRIVATE KEY")))
        .unwrap_or(false)
}

/// Adds each service's listed anchors to its trust set, after the derived ones.
pub fn add_to(
    sets: &mut BTreeMap<String, TrustSet>,
    listed: &BTreeMap<String, Vec<ListedAnchors>>,
) {
    for (service, files) in listed {
        if let Some(set) = sets.get_mut(service) {
            for file in files {
                set.add_listed(&file.anchors, &file.why, &file.file);
            }
        }
    }
}
