//! The validated platform: typed, cross-checked, with every default filled in. Built
//! only by [`crate::validate::validate`]; everything after validation works on these.

use crate::maintenance::MaintenanceWindow;
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::names::San;
use certfleet_pki::profile::Usage;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Who issues a service's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerKind {
    /// The platform's own CA (root and issuing intermediate in `ca_dir`).
    Internal,
    /// The certificate signs itself.
    SelfSigned,
    /// An outside CA: certfleet writes a CSR and imports the reply.
    External,
    /// An ACME CA, through `certfleet domain acme` on the running server.
    Acme,
}

impl IssuerKind {
    /// The model's spelling.
    pub fn name(self) -> &'static str {
        match self {
            IssuerKind::Internal => "internal",
            IssuerKind::SelfSigned => "self-signed",
            IssuerKind::External => "external",
            IssuerKind::Acme => "acme",
        }
    }

    /// Parses the model's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        [
            IssuerKind::Internal,
            IssuerKind::SelfSigned,
            IssuerKind::External,
            IssuerKind::Acme,
        ]
        .into_iter()
        .find(|k| k.name() == text)
    }
}

/// The keys a kind of peer takes in its certificate, from its vendor's documentation.
/// A service whose `kind` is one of [`PeerKeys::kinds`] gets [`PeerKeys::default_key`]
/// when it sets no `key` (and the platform's is not accepted), and a `key` outside
/// [`PeerKeys::accepted`] is a model error; `certfleet lint --peer KIND` judges a
/// certificate by the same entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerKeys {
    /// The `kind` spellings this entry covers (matched without regard to case).
    pub kinds: &'static [&'static str],
    /// Every key algorithm the peer takes.
    pub accepted: &'static [KeyAlgorithm],
    /// The key a service of this kind gets when neither it nor the platform names an
    /// accepted one.
    pub default_key: KeyAlgorithm,
    /// Why, in the vendor's terms, for messages.
    pub reason: &'static str,
}

impl PeerKeys {
    /// True when the peer takes `key`.
    pub fn accepts(&self, key: KeyAlgorithm) -> bool {
        self.accepted.contains(&key)
    }

    /// The accepted keys as the model spells them: `rsa2048 or rsa1024`.
    pub fn accepted_names(&self) -> String {
        let names: Vec<&str> = self.accepted.iter().map(|k| k.name()).collect();
        names.join(" or ")
    }
}

/// The kinds of peer that take only some keys. One entry per product family; the
/// contact-center suite (UCCX 11.6 and later, with SocialMiner/CCP, CUIC and Finesse)
/// takes RSA keys of 1024 and 2048 bits only: its documentation names those two lengths
/// and says ECDSA certificates were removed from the whole solution in 11.6.
pub const PEER_KEYS: &[PeerKeys] = &[PeerKeys {
    kinds: &["uccx", "finesse", "cuic", "socialminer", "ccp"],
    accepted: &[KeyAlgorithm::Rsa2048, KeyAlgorithm::Rsa1024],
    default_key: KeyAlgorithm::Rsa2048,
    reason: "UCCX 11.6 and later, with SocialMiner/CCP, CUIC and Finesse, take RSA keys of 1024 or 2048 bits only and no ECDSA certificate",
}];

/// The key constraint of a service `kind`, when the kind has one.
pub fn peer_keys(kind: &str) -> Option<&'static PeerKeys> {
    let kind = kind.trim();
    PEER_KEYS
        .iter()
        .find(|entry| entry.kinds.iter().any(|k| k.eq_ignore_ascii_case(kind)))
}

/// Every kind with a key constraint, for messages listing them.
pub fn constrained_kinds() -> Vec<&'static str> {
    PEER_KEYS
        .iter()
        .flat_map(|entry| entry.kinds.iter().copied())
        .collect()
}

/// The model's spelling of a usage.
pub fn usage_name(usage: Usage) -> &'static str {
    match usage {
        Usage::Server => "server",
        Usage::Client => "client",
        Usage::Both => "both",
    }
}

/// True when `usage` includes TLS server authentication.
pub fn serves(usage: Usage) -> bool {
    matches!(usage, Usage::Server | Usage::Both)
}

/// True when `usage` includes TLS client authentication.
pub fn is_client(usage: Usage) -> bool {
    matches!(usage, Usage::Client | Usage::Both)
}

/// An output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `path.crt` (leaf and intermediates) and `path.key`.
    PemPair,
    /// One PEM file: key, leaf, chain.
    Merged,
    /// The leaf, DER.
    Der,
    /// PKCS#12 with the key, leaf and chain.
    Pkcs12,
    /// JKS with the key, leaf and chain.
    Jks,
    /// PEM bundle of the trusted certificates.
    PemTrust,
    /// PKCS#12 of trusted certificates.
    Pkcs12Trust,
    /// JKS of trusted certificates.
    JksTrust,
    /// PEM of the issuing chain, without the leaf.
    PemChain,
    /// RFC 7919 Diffie-Hellman group.
    Dhparam,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 10] = [
        Format::PemPair,
        Format::Merged,
        Format::Der,
        Format::Pkcs12,
        Format::Jks,
        Format::PemTrust,
        Format::Pkcs12Trust,
        Format::JksTrust,
        Format::PemChain,
        Format::Dhparam,
    ];

    /// The model's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Format::PemPair => "pem-pair",
            Format::Merged => "merged",
            Format::Der => "der",
            Format::Pkcs12 => "pkcs12",
            Format::Jks => "jks",
            Format::PemTrust => "pem-trust",
            Format::Pkcs12Trust => "pkcs12-trust",
            Format::JksTrust => "jks-trust",
            Format::PemChain => "pem-chain",
            Format::Dhparam => "dhparam",
        }
    }

    /// Parses the model's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Format::ALL.into_iter().find(|f| f.name() == text)
    }

    /// Keystore formats, which have a password.
    pub fn is_keystore(self) -> bool {
        matches!(
            self,
            Format::Pkcs12 | Format::Jks | Format::Pkcs12Trust | Format::JksTrust
        )
    }

    /// Formats holding the service's own certificate (and maybe key).
    pub fn needs_leaf(self) -> bool {
        matches!(
            self,
            Format::PemPair
                | Format::Merged
                | Format::Der
                | Format::Pkcs12
                | Format::Jks
                | Format::PemChain
        )
    }

    /// Formats holding the service's private key.
    pub fn needs_key(self) -> bool {
        matches!(
            self,
            Format::PemPair | Format::Merged | Format::Pkcs12 | Format::Jks
        )
    }

    /// Formats holding the trusted certificates of the trust graph.
    pub fn is_trust(self) -> bool {
        matches!(
            self,
            Format::PemTrust | Format::Pkcs12Trust | Format::JksTrust
        )
    }
}

/// One output file of a service.
#[derive(Debug, Clone)]
pub struct Output {
    /// The format.
    pub format: Format,
    /// The path as written in the model.
    pub path: String,
    /// Keystore alias: required for `pkcs12` and `jks`, refused on every other format
    /// (truststore entries are named after each certificate's CN).
    pub alias: Option<String>,
    /// Store password as written (plain or `CRYPT:`); generated when `None`.
    pub password: Option<String>,
    /// JKS key password as written; the store password when `None`.
    pub key_password: Option<String>,
    /// PKCS#12 3DES/RC2.
    pub legacy: bool,
    /// A `pkcs12` or `jks` keystore that also holds the service's trust set as
    /// trusted-certificate entries, so the one file is its keystore and its truststore
    /// (Elasticsearch's `transport.p12`).
    pub include_trust: bool,
    /// DH group size.
    pub bits: u32,
    /// Its files' mode and owner, when the model sets them.
    pub access: FileAccess,
    /// The line of the output's table, for messages.
    pub line: usize,
}

impl Output {
    /// True when the file holds the service's trust set: a truststore format, or a
    /// keystore with `include_trust`.
    pub fn holds_trust(&self) -> bool {
        self.format.is_trust() || self.include_trust
    }
}

/// An output's file mode and owner as the model sets them; unset: mode 0600 for files
/// holding a private key and 0644 for others, owned by whoever writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileAccess {
    /// The mode (`0o640`); never readable by others for a file holding a key.
    pub mode: Option<u32>,
    /// The owning user's name.
    pub owner: Option<String>,
    /// The owning group's name.
    pub group: Option<String>,
}

impl FileAccess {
    /// Whether the model set nothing.
    pub fn is_default(&self) -> bool {
        *self == FileAccess::default()
    }
}

/// A node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Name.
    pub name: String,
    /// FQDN.
    pub fqdn: String,
    /// Addresses.
    pub ips: Vec<IpAddr>,
    /// When agents may replace its services' certificates (none: at any time).
    pub maintenance: Vec<MaintenanceWindow>,
}

/// The names a service's certificate request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// These names, CN first: the service's full SAN set, or its `csr_names`.
    Names(Vec<San>),
    /// No subjectAltName extension: the CA chooses the names (`csr_san = false`, the
    /// contact-center manual's way out of "CSR SAN and Certificate SAN does not match").
    NoSan,
}

impl Requested {
    /// The requested names as `DNS:x` / `IP:y`, sorted; `None` for [`Requested::NoSan`].
    pub fn sorted_text(&self) -> Option<Vec<String>> {
        match self {
            Requested::Names(names) => {
                let mut text: Vec<String> = names.iter().map(San::display).collect();
                text.sort();
                Some(text)
            }
            Requested::NoSan => None,
        }
    }
}

/// A CSR made where the service's key lives (an appliance's web administration), which
/// certfleet signs (internal CA) or passes on (external CA) without ever holding the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrFile {
    /// The path as written in the model (relative paths are relative to the model file).
    pub written: String,
    /// The line of the `csr` key, for messages.
    pub line: usize,
}

/// A service, with its certificate request worked out.
#[derive(Debug, Clone)]
pub struct Service {
    /// Name.
    pub name: String,
    /// Free-text kind.
    pub kind: Option<String>,
    /// The rollout group as written (`group`); see [`Service::rollout_group`].
    pub group: Option<String>,
    /// The node's name; with several nodes, the first of them (where an appliance's CSR
    /// is made and its certificate uploaded).
    pub node: String,
    /// Every node it runs on, in model order (`node` first); more than one when one
    /// certificate is shared by several nodes (`shared_certificate`).
    pub nodes: Vec<String>,
    /// Certificate CN.
    pub cn: String,
    /// Extra DNS names for the certificate (the node's FQDN among them, except for ACME,
    /// whose names are only its `cn` and `san`).
    pub dns_names: Vec<String>,
    /// IP addresses for the certificate (none for ACME).
    pub ips: Vec<IpAddr>,
    /// The full SAN set, CN first.
    pub sans: Vec<San>,
    /// What its CSR asks for and its certificate is checked against: every name in
    /// `sans`, or only its `csr_names`, or no SAN extension at all (`csr_san = false`).
    pub requested: Requested,
    /// A CSR made where the key lives (`csr`): no key is ever made or written for it.
    pub csr_file: Option<CsrFile>,
    /// Usage.
    pub usage: Usage,
    /// Key algorithm.
    pub key: KeyAlgorithm,
    /// Validity days.
    pub days: u32,
    /// Subject attributes beside the CN (O, OU, L, ST, C).
    pub subject: certfleet_pki::subject::SubjectAttributes,
    /// Issuer.
    pub issuer: IssuerKind,
    /// `ip:port` listeners.
    pub listeners: Vec<String>,
    /// Services whose client certificates it accepts.
    pub allowed_clients: Vec<String>,
    /// Reload command.
    pub reload: Option<String>,
    /// How long the reload command (or the agent's hook) may run before it is killed.
    pub reload_timeout: std::time::Duration,
    /// The agent's hook for this service: a name the node's configuration defines.
    pub hook: Option<String>,
    /// When agents may replace its certificate: its own `maintenance`, else its node's
    /// (none: at any time).
    pub maintenance: Vec<MaintenanceWindow>,
    /// Output files.
    pub outputs: Vec<Output>,
    /// Certificates it trusts that certfleet did not issue, by file (`[[service.trust]]`).
    pub trust_files: Vec<crate::trust_files::TrustFile>,
}

impl Service {
    /// Whether one key and certificate serve several nodes (`nodes` with
    /// `shared_certificate = true`).
    pub fn is_shared(&self) -> bool {
        self.nodes.len() > 1
    }

    /// The rollout group agents update a few services at a time: the `group` key, else
    /// the `kind`, else the service alone.
    pub fn rollout_group(&self) -> &str {
        self.group
            .as_deref()
            .or(self.kind.as_deref())
            .unwrap_or(&self.name)
    }
}

/// A connection from a client service to a server service.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Client service.
    pub from: String,
    /// Server service.
    pub to: String,
    /// Mutual TLS.
    pub mtls: bool,
}

/// The validated platform.
#[derive(Debug, Clone)]
pub struct Platform {
    /// Name (state directory name).
    pub name: String,
    /// The internal CA directory as written.
    pub ca_dir: String,
    /// Key algorithm of a new internal CA.
    pub ca_key: KeyAlgorithm,
    /// Services, in model order.
    pub services: Vec<Service>,
    /// Connections, in model order.
    pub connections: Vec<Connection>,
    /// How many services of one rollout group agents update at once (at least 1).
    pub max_unavailable: u32,
    /// Each service's index in `services`, by name.
    index: BTreeMap<String, usize>,
}

impl Platform {
    /// A platform of these services and connections (names already checked unique).
    pub fn new(
        name: String,
        ca_dir: String,
        ca_key: KeyAlgorithm,
        services: Vec<Service>,
        connections: Vec<Connection>,
    ) -> Self {
        let index = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        Platform {
            name,
            ca_dir,
            ca_key,
            services,
            connections,
            max_unavailable: 1,
            index,
        }
    }

    /// The position of the service called `name` in `services`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.position(name).and_then(|i| self.services.get(i))
    }

    /// True when any service is issued by the internal CA.
    pub fn uses_internal_ca(&self) -> bool {
        self.services
            .iter()
            .any(|s| s.issuer == IssuerKind::Internal)
    }
}
