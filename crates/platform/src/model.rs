//! The model file as written: the raw TOML tables of the platform model (docs/MODEL.md), read with
//! the byte position of every value so later checks can name the line.
//!
//! Unknown keys anywhere are refused (`deny_unknown_fields`); the error names the key and
//! its line. Nothing here judges values: [`crate::validate`] turns this into a
//! [`crate::spec::Platform`].

use crate::error::{PlatformError, Result};
use serde::Deserialize;
use toml::Spanned;

/// A string value with its position in the file.
pub type Text = Spanned<String>;

/// The whole model file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// `[platform]`.
    pub platform: Spanned<RawPlatform>,
    /// `[[node]]` tables.
    #[serde(default)]
    pub node: Vec<Spanned<RawNode>>,
    /// `[[service]]` tables.
    #[serde(default)]
    pub service: Vec<Spanned<RawService>>,
    /// `[[connection]]` tables.
    #[serde(default)]
    pub connection: Vec<Spanned<RawConnection>>,
}

/// `[platform]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlatform {
    /// The platform's name; names the state directory.
    pub name: Text,
    /// Default issuer: `internal`, `self-signed`, `external` or `acme`.
    pub ca: Option<Text>,
    /// The internal CA's directory.
    pub ca_dir: Option<Text>,
    /// Default key algorithm.
    pub key: Option<Text>,
    /// Default validity in days.
    pub days: Option<Spanned<i64>>,
    /// Accept `rsa1024` for legacy peers.
    pub allow_weak: Option<bool>,
    /// How long a reload command may run before it is killed (`"60s"`, `"2m"`).
    pub reload_timeout: Option<Text>,
    /// Default country (C) of the service certificates, two letters.
    pub country: Option<Text>,
    /// Default state or province (ST).
    pub state: Option<Text>,
    /// Default locality (L).
    pub locality: Option<Text>,
    /// Default organization (O).
    pub org: Option<Text>,
    /// Default organizational unit (OU).
    pub org_unit: Option<Text>,
    /// How many services of one group `certfleet agent` renews at once (a staged
    /// rollout); at least 1.
    pub max_unavailable: Option<Spanned<i64>>,
}

/// `[[node]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    /// Node name, referred to by services.
    pub name: Text,
    /// The node's fully qualified domain name.
    pub fqdn: Text,
    /// The node's IP addresses.
    #[serde(default)]
    pub ips: Vec<Text>,
    /// When `certfleet agent` may replace the certificates of its services
    /// ([`crate::maintenance`]); none: at any time.
    #[serde(default)]
    pub maintenance: Vec<Text>,
}

/// `[[service]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// Service name.
    pub name: Text,
    /// Free text: `jetty`, `iis`, `nginx`, ...
    pub kind: Option<Text>,
    /// The rollout group whose services agents update a few at a time (default: the
    /// `kind`).
    pub group: Option<Text>,
    /// The node it runs on (or `nodes`, never both).
    pub node: Option<Text>,
    /// The nodes it runs on when one certificate serves them all (with
    /// `shared_certificate = true`); the first is where an appliance's CSR is made.
    pub nodes: Option<Spanned<Vec<Text>>>,
    /// `true`: one key and one certificate, naming every node of `nodes`, delivered to
    /// each of them.
    pub shared_certificate: Option<Spanned<bool>>,
    /// `server`, `client` or `both`.
    pub usage: Option<Text>,
    /// The certificate's CN (default: the node's FQDN).
    pub cn: Option<Text>,
    /// Key algorithm override.
    pub key: Option<Text>,
    /// Validity override.
    pub days: Option<Spanned<i64>>,
    /// Issuer override.
    pub ca: Option<Text>,
    /// Extra DNS names.
    #[serde(default)]
    pub san: Vec<Text>,
    /// A CSR made where the key lives (an appliance's web admin), relative to the model
    /// file: certfleet signs or passes it on and never holds the key.
    pub csr: Option<Text>,
    /// Exactly the names (DNS names, IP addresses) the service's CSR asks for, when not
    /// all of its names (a public CA signs no internal name or address).
    pub csr_names: Option<Spanned<Vec<Text>>>,
    /// `false`: the CSR carries no subjectAltName extension and the CA chooses the names.
    pub csr_san: Option<Spanned<bool>>,
    /// Extra IP addresses.
    #[serde(default)]
    pub ips: Vec<Text>,
    /// `ip:port` strings where it listens.
    #[serde(default)]
    pub listeners: Vec<Text>,
    /// Services whose client certificates it accepts.
    #[serde(default)]
    pub allowed_clients: Vec<Text>,
    /// Command run (`sh -c`) after its files changed.
    pub reload: Option<Text>,
    /// This service's reload time limit, over `[platform] reload_timeout`.
    pub reload_timeout: Option<Text>,
    /// The name of the hook `certfleet agent` runs on the node after this service's files
    /// changed; the node's own configuration says what the name runs.
    pub hook: Option<Text>,
    /// When `certfleet agent` may replace this service's certificate, over its node's
    /// `maintenance` (`[]`: at any time).
    pub maintenance: Option<Vec<Text>>,
    /// Country (C), over `[platform] country`.
    pub country: Option<Text>,
    /// State or province (ST), over `[platform] state`.
    pub state: Option<Text>,
    /// Locality (L), over `[platform] locality`.
    pub locality: Option<Text>,
    /// Organization (O), over `[platform] org`.
    pub org: Option<Text>,
    /// Organizational unit (OU), over `[platform] org_unit`.
    pub org_unit: Option<Text>,
    /// Files it reads.
    #[serde(default)]
    pub output: Vec<Spanned<RawOutput>>,
    /// CA certificates it trusts that certfleet did not issue, by file.
    #[serde(default)]
    pub trust: Vec<Spanned<RawTrust>>,
}

/// `[[service.output]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    /// One of the formats of [`crate::spec::Format`].
    pub format: Text,
    /// Where to write it.
    pub path: Text,
    /// Keystore alias.
    pub alias: Option<Text>,
    /// Store password, plain or `CRYPT:`.
    pub password: Option<Text>,
    /// Key password (JKS), plain or `CRYPT:`; defaults to the store password.
    pub key_password: Option<Text>,
    /// PKCS#12 with 3DES/RC2.
    pub legacy: Option<Spanned<bool>>,
    /// A `pkcs12` or `jks` keystore that also holds the trust set (keystore and
    /// truststore in one file).
    pub include_trust: Option<Spanned<bool>>,
    /// DH group size for `dhparam`.
    pub bits: Option<Spanned<i64>>,
    /// File mode, octal (`"0640"`).
    pub mode: Option<Text>,
    /// Owning user, by name.
    pub owner: Option<Text>,
    /// Owning group, by name.
    pub group: Option<Text>,
}

/// `[[service.trust]]`: a certificate file the service trusts ([`crate::trust_files`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrust {
    /// The file: PEM, DER, JKS or PKCS#12.
    pub file: Text,
    /// `pem`, `der`, `jks` or `pkcs12`; told from the content when absent.
    pub format: Option<Text>,
    /// A keystore's password, plain or `CRYPT:`.
    pub password: Option<Text>,
    /// Why the service trusts it, for the report.
    pub why: Text,
}

/// `[[connection]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnection {
    /// The client service.
    pub from: Text,
    /// The server service.
    pub to: Text,
    /// Mutual TLS; whether it was written at all matters for a server with
    /// `allowed_clients` (see [`crate::validate`]).
    pub mtls: Option<Spanned<bool>>,
}

impl RawConnection {
    /// Whether the connection is mutual TLS (`false` when `mtls` is not written).
    pub fn mutual(&self) -> bool {
        self.mtls.as_ref().is_some_and(|m| *m.get_ref())
    }
}

/// Maps byte offsets of a model file to line numbers, and builds errors naming them.
#[derive(Debug, Clone)]
pub struct Locator {
    file: String,
    line_starts: Vec<usize>,
}

impl Locator {
    /// A locator for `text`, read from `file` (as the user named it).
    pub fn new(file: &str, text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Locator {
            file: file.to_owned(),
            line_starts,
        }
    }

    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(index) => index + 1,
            Err(index) => index,
        }
    }

    /// An error at `offset` about `key`.
    pub fn error(&self, offset: usize, key: &str, message: impl Into<String>) -> PlatformError {
        PlatformError::Model {
            file: self.file.clone(),
            line: self.line(offset),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    /// An error about the spanned value `at`.
    pub fn at<T>(&self, at: &Spanned<T>, key: &str, message: impl Into<String>) -> PlatformError {
        self.error(at.span().start, key, message)
    }

    /// The model file's name as given.
    pub fn file(&self) -> &str {
        &self.file
    }
}

/// Parses the model text. TOML syntax errors, unknown keys and wrong types are reported
/// with the file, line and key.
pub fn parse(locator: &Locator, text: &str) -> Result<RawModel> {
    toml::from_str::<RawModel>(text).map_err(|err| {
        let offset = err.span().map(|s| s.start).unwrap_or(0);
        let mut message = err.message().trim().to_owned();
        let key = if let Some(key) = quoted_after(&message, "unknown field `") {
            key
        } else if let Some(key) = quoted_after(&message, "missing field `") {
            message = format!("the required key `{key}` is missing from this table");
            key
        } else {
            key_on_line(text, offset).unwrap_or_else(|| "model".to_owned())
        };
        // Parser messages may quote the value; a password's is never shown.
        if key.ends_with("password") {
            message = "expected a quoted string (the value is not shown)".to_owned();
        }
        locator.error(offset, &key, message)
    })
}

/// The name between backquotes after `prefix` in serde's messages (`unknown field `x``).
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    Some(rest.split('`').next()?.to_owned())
}

/// The key assigned on the line holding `offset` (`key = ...`), if the line is one.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(&Locator::new("m.toml", text), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn lines_are_counted_from_one() {
        let loc = Locator::new("m.toml", "a\nbb\n\nc");
        assert_eq!(loc.line(0), 1);
        assert_eq!(loc.line(2), 2);
        assert_eq!(loc.line(5), 3);
        assert_eq!(loc.line(6), 4);
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let text = "[platform]\nname = \"x\"\n\n[[service]]\nname = \"a\"\nnode = \"n\"\ncolour = \"red\"\n";
        let message = err(text);
        assert!(message.starts_with("m.toml:7: colour:"), "{message}");
        let text = "[platform]\nname = \"x\"\n[[service]]\nname = \"a\"\nnode = \"n\"\n[[service.output]]\nformat = \"der\"\npath = \"x\"\npasword = \"y\"\n";
        let message = err(text);
        assert!(message.starts_with("m.toml:9: pasword:"), "{message}");
        let message = err("[platform]\nname = \"x\"\nfoo = 1\n");
        assert!(message.starts_with("m.toml:3: foo:"), "{message}");
    }

    #[test]
    fn syntax_and_type_errors_name_the_line() {
        let message = err("[platform]\nname = \"x\"\ndays = \"many\"\n");
        assert!(message.starts_with("m.toml:3: days:"), "{message}");
        let message = err("[platform]\nname = \"x\"\n[[node]]\nname = \"n\"\n");
        assert!(message.contains(": fqdn: the required key"), "{message}");
        let message = err("[platform]\nname = \"x\"\n[[service]]\nname = \"a\"\nnode = \"n\"\n[[service.output]]\nformat = \"jks\"\npath = \"x\"\npassword = 12345678\n");
        assert!(message.starts_with("m.toml:9: password:"), "{message}");
        assert!(!message.contains("12345678"), "{message}");
        let message = err("[platform]\nname = \n");
        assert!(message.starts_with("m.toml:2:"), "{message}");
    }
}
