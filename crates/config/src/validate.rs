//! Stage two of configuration: meaning. Turns the raw file into typed values (socket
//! addresses, enums, paths that exist) with errors naming the block and key.

use super::limits::{connection_limits, ConnectionLimits};
use super::platforms::platform_configs;
pub use super::platforms::PlatformConfig;
use super::raw::{RawConfig, RawListener, RawRoute, RawTrust};
use anyhow::{anyhow, bail, Context, Result};
use certfleet_acme::order::ChallengeKind;
use certfleet_edge::certdir::Certdir;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// The validated server configuration.
#[derive(Debug)]
pub struct ServerConfig {
    /// Where the embedded store, master key, admin token and default certificate live.
    pub data_dir: PathBuf,
    /// Which storage backend to use.
    pub store: StoreBackend,
    /// The admin listener (REST API and web UI).
    pub admin: AdminConfig,
    /// The plain-HTTP listener.
    pub http: HttpConfig,
    /// HTTPS listeners, one per role.
    pub listeners: Vec<ListenerConfig>,
    /// ACME directory URL.
    pub acme_directory: String,
    /// Extra trust for the ACME server itself.
    pub acme_ca_bundle: Option<PathBuf>,
    /// The challenge orders answer (`[acme] challenge`, default `http-01`).
    pub acme_challenge: ChallengeKind,
    /// The ACME account's contact for the certificates of agents' services with
    /// `ca = "acme"` (`[acme] email`); without it those services get none.
    pub acme_email: Option<String>,
    /// Days before expiry that count as a warning.
    pub warn_days: u32,
    /// Where alerts are posted, when set (an `http://` or `https://` URL).
    pub webhook: Option<String>,
    /// How often the expiry watcher evaluates every certificate (`[monitor]
    /// interval_seconds`, default 300).
    pub monitor_interval: Duration,
    /// Routes to upstream services.
    pub routes: Vec<RouteConfig>,
    /// Platform models the API plans and applies (`[[platform]]`), by name.
    pub platforms: Vec<PlatformConfig>,
    /// Time-outs and the connection cap of every listener (`[limits]`).
    pub limits: ConnectionLimits,
    /// Settings that work but should be changed, one line each (logged at start-up).
    pub warnings: Vec<String>,
    /// `[agents]`: the agent listener, when configured.
    pub agents: Option<super::agents::AgentsConfig>,
    /// `[metrics]`: the read-only scrape credential of `GET /metrics`, when configured.
    pub metrics: super::metrics::MetricsConfig,
    /// `[forwarding] trusted_proxies`: address ranges (CIDR) of proxies whose
    /// `X-Forwarded-For` is extended rather than replaced; checked when routes are built.
    pub trusted_proxies: Vec<String>,
}

/// Storage backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreBackend {
    /// A file in the data directory.
    Embedded,
    /// An etcd cluster.
    Etcd(Vec<String>),
}

/// `[admin]`.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// Address of the HTTPS admin listener.
    pub listen: SocketAddr,
    /// Origins allowed to call the API from a browser (`scheme://host[:port]`).
    pub cors_origins: Vec<String>,
    /// A UI session ends after this long without a request (default 30 minutes).
    pub session_timeout: Duration,
    /// A UI session ends this long after its login, however busy (default 12 hours).
    pub session_lifetime: Duration,
}

/// What plain HTTP gets, apart from ACME challenges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsecurePolicy {
    /// A redirect to the same URL over HTTPS.
    Redirect,
    /// A refusal ("reject insecure connections").
    Reject,
}

/// `[http]`.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Address of the plain-HTTP listener.
    pub listen: SocketAddr,
    /// Redirect or refuse.
    pub insecure: InsecurePolicy,
}

/// TLS settings of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsProfile {
    /// Mozilla "intermediate": TLS 1.2 and 1.3.
    Intermediate,
    /// Mozilla "modern": TLS 1.3 only.
    Modern,
}

/// One `[[listener]]`.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// The role (e.g. `ws`), which certdir and routes refer to.
    pub role: String,
    /// Address of its HTTPS listener.
    pub https: SocketAddr,
    /// Its certificate directory, aliases resolved.
    pub certdir: Option<PathBuf>,
    /// TLS profile.
    pub tls_profile: TlsProfile,
    /// Session cache and TLS 1.3 tickets (on unless `session_resumption = false`).
    pub session_resumption: bool,
}

/// How a route trusts its upstream's certificate.
#[derive(Debug)]
pub enum UpstreamTrust {
    /// The system roots.
    System,
    /// No verification (logged as a warning at start-up).
    Insecure,
    /// A CA file in PEM, JKS or PKCS#12.
    File {
        /// The file.
        path: PathBuf,
        /// Its password (keystores), already decrypted.
        password: Option<Zeroizing<String>>,
    },
}

/// Client-certificate authentication of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Not asked for.
    Off,
    /// Asked for, checked when given.
    Optional,
    /// Required.
    Required,
}

/// Basic authentication of a route: a user and either an argon2 hash or a password
/// (decrypted from `CRYPT:`), compared in constant time.
#[derive(Clone)]
pub struct BasicAuth {
    user: String,
    secret: Zeroizing<String>,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl BasicAuth {
    /// True when `user` and `password` are the configured ones.
    pub fn matches(&self, user: &str, password: &str) -> bool {
        let user_ok = aws_lc_rs::constant_time::verify_slices_are_equal(
            user.as_bytes(),
            self.user.as_bytes(),
        )
        .is_ok();
        let password_ok = if self.secret.starts_with("$argon2") {
            use argon2::{PasswordHash, PasswordVerifier};
            PasswordHash::new(&self.secret)
                .map(|hash| {
                    argon2::Argon2::default()
                        .verify_password(password.as_bytes(), &hash)
                        .is_ok()
                })
                .unwrap_or(false)
        } else {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                password.as_bytes(),
                self.secret.as_bytes(),
            )
            .is_ok()
        };
        user_ok & password_ok
    }
}

/// One `[[route]]`.
#[derive(Debug)]
pub struct RouteConfig {
    /// Host name the route answers (lower-case).
    pub host: String,
    /// Path prefix, starting with `/`.
    pub path: String,
    /// Upstream base URL (`http://` or `https://`).
    pub upstream: String,
    /// Upstream certificate trust (for `https://` upstreams).
    pub upstream_trust: UpstreamTrust,
    /// Client-certificate authentication.
    pub client_auth: ClientAuth,
    /// Trust anchors for client certificates.
    pub client_ca: Option<PathBuf>,
    /// Allowed client certificate thumbprints (upper-case hex, SHA-1 or SHA-256).
    pub allowed_thumbprints: Vec<String>,
    /// Basic authentication, when configured.
    pub basic_auth: Option<BasicAuth>,
    /// Whether WebSocket upgrades pass (`websocket`, default true).
    pub websocket: bool,
}

fn address(value: Option<&str>, default: &str, what: &str) -> Result<SocketAddr> {
    let text = value.unwrap_or(default);
    text.parse()
        .map_err(|_| anyhow!("{what}: '{text}' is not an address such as 127.0.0.1:8443"))
}

/// `[monitor] webhook`: an `http://` or `https://` URL with a host. The value is not
/// repeated in errors (its path or query may hold the receiver's secret).
fn webhook_url(value: Option<String>) -> Result<Option<String>> {
    let Some(url) = value else {
        return Ok(None);
    };
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| anyhow!("[monitor] webhook: not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        bail!("[monitor] webhook: must be an http:// or https:// URL with a host");
    }
    Ok(Some(url))
}

/// `[monitor] interval_seconds`: at least 1, default 300.
fn monitor_interval(value: Option<u64>) -> Result<Duration> {
    match value.unwrap_or(300) {
        0 => bail!("[monitor] interval_seconds: must be at least 1"),
        seconds => Ok(Duration::from_secs(seconds)),
    }
}

/// Builds the typed configuration from the raw file.
pub(crate) fn build(raw: RawConfig, data_dir: PathBuf) -> Result<ServerConfig> {
    let store = match raw.store.backend.as_deref().unwrap_or("embedded") {
        "embedded" => StoreBackend::Embedded,
        "etcd" if raw.store.etcd_endpoints.is_empty() => {
            bail!("[store] etcd_endpoints: backend \"etcd\" needs at least one endpoint")
        }
        "etcd" => StoreBackend::Etcd(raw.store.etcd_endpoints.clone()),
        other => bail!("[store] backend: '{other}' is neither \"embedded\" nor \"etcd\""),
    };
    let insecure = match raw.http.insecure.as_deref().unwrap_or("redirect") {
        "redirect" => InsecurePolicy::Redirect,
        "reject" => InsecurePolicy::Reject,
        other => bail!("[http] insecure: '{other}' is neither \"redirect\" nor \"reject\""),
    };
    let acme_challenge = match raw.acme.challenge.as_deref().unwrap_or("http-01") {
        "http-01" => ChallengeKind::Http01,
        "tls-alpn-01" => ChallengeKind::TlsAlpn01,
        other => bail!("[acme] challenge: '{other}' is neither \"http-01\" nor \"tls-alpn-01\""),
    };
    let mut listeners = Vec::new();
    for (index, listener) in raw.listener.iter().enumerate() {
        listeners
            .push(listener_config(listener, &raw.aliases).with_context(|| {
                format!("[[listener]] #{} (role {})", index + 1, listener.role)
            })?);
    }
    if listeners.is_empty() {
        listeners.push(ListenerConfig {
            role: "default".into(),
            https: address(None, "127.0.0.1:8443", "")?,
            certdir: None,
            tls_profile: TlsProfile::Intermediate,
            session_resumption: true,
        });
    }
    let mut routes = Vec::new();
    for (index, route) in raw.route.into_iter().enumerate() {
        let label = format!("[[route]] #{} (host {})", index + 1, route.host);
        routes.push(route_config(route).context(label)?);
    }
    let platforms = platform_configs(raw.platform)?;
    Ok(ServerConfig {
        data_dir,
        store,
        admin: AdminConfig {
            listen: address(
                raw.admin.listen.as_deref(),
                "127.0.0.1:9443",
                "[admin] listen",
            )?,
            cors_origins: cors_origins(raw.admin.cors_origins)?,
            session_timeout: session_timeout(raw.admin.session_timeout_minutes)?,
            session_lifetime: session_lifetime(raw.admin.session_lifetime_seconds)?,
        },
        http: HttpConfig {
            listen: address(
                raw.http.listen.as_deref(),
                "127.0.0.1:8080",
                "[http] listen",
            )?,
            insecure,
        },
        listeners,
        acme_directory: raw
            .acme
            .directory
            .unwrap_or_else(|| "https://acme-v02.api.letsencrypt.org/directory".into()),
        acme_ca_bundle: raw.acme.ca_bundle.map(PathBuf::from),
        acme_challenge,
        acme_email: acme_email(raw.acme.email)?,
        warn_days: raw.monitor.warn_days.unwrap_or(14),
        webhook: webhook_url(raw.monitor.webhook)?,
        monitor_interval: monitor_interval(raw.monitor.interval_seconds)?,
        routes,
        platforms,
        limits: connection_limits(&raw.limits)?,
        warnings: Vec::new(),
        trusted_proxies: raw.forwarding.trusted_proxies,
        agents: super::agents::agents_config(raw.agents)?,
        metrics: super::metrics::metrics_config(raw.metrics)?,
    })
}

/// `[acme] email`: an address, without a `mailto:`.
fn acme_email(email: Option<String>) -> Result<Option<String>> {
    match email {
        Some(address) if !address.contains('@') || address.contains(char::is_whitespace) => {
            bail!("[acme] email: '{address}' is not an e-mail address")
        }
        other => Ok(other),
    }
}

/// The longest `[admin] session_timeout_minutes`: one day.
const MAX_SESSION_MINUTES: u32 = 24 * 60;

fn session_timeout(minutes: Option<u32>) -> Result<Duration> {
    let minutes = minutes.unwrap_or(30);
    if !(1..=MAX_SESSION_MINUTES).contains(&minutes) {
        bail!(
            "[admin] session_timeout_minutes: {minutes} is not between 1 and {MAX_SESSION_MINUTES}"
        );
    }
    Ok(Duration::from_secs(u64::from(minutes) * 60))
}

/// The default `[admin] session_lifetime_seconds`: 12 hours.
const DEFAULT_SESSION_LIFETIME_SECONDS: u64 = 12 * 60 * 60;
/// The longest `[admin] session_lifetime_seconds`: 7 days.
const MAX_SESSION_LIFETIME_SECONDS: u64 = 7 * 24 * 60 * 60;

fn session_lifetime(seconds: Option<u64>) -> Result<Duration> {
    let seconds = seconds.unwrap_or(DEFAULT_SESSION_LIFETIME_SECONDS);
    if !(1..=MAX_SESSION_LIFETIME_SECONDS).contains(&seconds) {
        bail!(
            "[admin] session_lifetime_seconds: {seconds} is not between 1 and {MAX_SESSION_LIFETIME_SECONDS}"
        );
    }
    Ok(Duration::from_secs(seconds))
}

/// Each origin must be `http(s)://host[:port]` exactly as browsers send it: no
/// wildcard, path, query or trailing slash.
fn cors_origins(origins: Vec<String>) -> Result<Vec<String>> {
    for origin in &origins {
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let valid = rest.is_some_and(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        });
        if !valid {
            bail!("[admin] cors_origins: '{origin}' is not an origin like \"https://ui.example.com\" or \"https://10.0.0.5:8443\" (scheme, host and port only; no wildcard, path or trailing slash)");
        }
    }
    Ok(origins)
}

fn listener_config(
    raw: &RawListener,
    aliases: &BTreeMap<String, String>,
) -> Result<ListenerConfig> {
    // The edge resolves `alias://` names, including the manuals' `alias://paths/NAME`.
    let certdir = match raw.certdir.as_deref() {
        None => None,
        Some(value) => {
            let table: HashMap<String, String> = aliases
                .iter()
                .map(|(name, dir)| (name.clone(), dir.clone()))
                .collect();
            let resolved = Certdir::from_config(value, &table).map_err(|e| anyhow!("{e}"))?;
            Some(resolved.dir().to_path_buf())
        }
    };
    let tls_profile = match raw.tls_profile.as_deref().unwrap_or("intermediate") {
        "intermediate" => TlsProfile::Intermediate,
        "modern" => TlsProfile::Modern,
        other => bail!("tls_profile: '{other}' is neither \"intermediate\" nor \"modern\""),
    };
    Ok(ListenerConfig {
        role: raw.role.clone(),
        https: address(Some(&raw.https), "", "https")?,
        certdir,
        tls_profile,
        session_resumption: raw.session_resumption.unwrap_or(true),
    })
}

fn route_config(raw: RawRoute) -> Result<RouteConfig> {
    if !(raw.upstream.starts_with("http://") || raw.upstream.starts_with("https://")) {
        bail!(
            "upstream: '{}' must start with http:// or https://",
            raw.upstream
        );
    }
    let path = raw.path.unwrap_or_else(|| "/".into());
    if !path.starts_with('/') {
        bail!("path: '{path}' must start with /");
    }
    let upstream_trust = match raw.upstream_trust {
        None | Some(RawTrust::Flag(true)) => UpstreamTrust::System,
        Some(RawTrust::Flag(false)) => UpstreamTrust::Insecure,
        Some(RawTrust::File(file)) => {
            let path = PathBuf::from(&file);
            std::fs::metadata(&path).map_err(|e| anyhow!("upstream_trust: {file}: {e}"))?;
            UpstreamTrust::File {
                path,
                password: raw.upstream_trust_password.map(Zeroizing::new),
            }
        }
    };
    let client_auth = match raw.client_auth.as_deref().unwrap_or("off") {
        "off" => ClientAuth::Off,
        "optional" => ClientAuth::Optional,
        "required" => ClientAuth::Required,
        other => bail!("client_auth: '{other}' is not \"off\", \"optional\" or \"required\""),
    };
    if client_auth != ClientAuth::Off && raw.client_ca.is_none() {
        bail!(
            "client_ca: client_auth = \"{}\" needs the CA file that issues client certificates",
            raw.client_auth.unwrap_or_default()
        );
    }
    let mut allowed_thumbprints = Vec::new();
    for (index, typed) in raw.allowed_thumbprints.iter().enumerate() {
        let field = format!("allowed_thumbprints #{}", index + 1);
        let normalised = certfleet_pki::inspect::fingerprint::parse_typed(typed)
            .map_err(|foreign| anyhow!("{field}: '{typed}': {foreign}"))?;
        if normalised.len() != 40 && normalised.len() != 64 {
            bail!("{field}: '{typed}' is neither a SHA-1 (40 hex digits) nor a SHA-256 (64) thumbprint");
        }
        allowed_thumbprints.push(normalised);
    }
    let basic_auth = match (raw.basic_auth_user, raw.basic_auth_password) {
        (None, None) => None,
        (Some(user), Some(password)) => Some(BasicAuth {
            user,
            secret: Zeroizing::new(password),
        }),
        _ => bail!("basic_auth_user and basic_auth_password go together"),
    };
    Ok(RouteConfig {
        host: raw.host.to_ascii_lowercase(),
        path,
        upstream: raw.upstream,
        upstream_trust,
        client_auth,
        client_ca: raw.client_ca.map(PathBuf::from),
        allowed_thumbprints,
        basic_auth,
        websocket: raw.websocket.unwrap_or(true),
    })
}
