//! The server configuration file as written (CLI.md "The server's configuration file"):
//! serde structures that refuse unknown keys, before any meaning is checked.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub data_dir: Option<String>,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub admin: RawAdmin,
    #[serde(default)]
    pub http: RawHttp,
    #[serde(default)]
    pub listener: Vec<RawListener>,
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    #[serde(default)]
    pub acme: RawAcme,
    #[serde(default)]
    pub monitor: RawMonitor,
    #[serde(default)]
    pub route: Vec<RawRoute>,
    #[serde(default)]
    pub platform: Vec<RawPlatform>,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub forwarding: RawForwarding,
}

/// `[forwarding]`: what the edge tells upstreams about clients.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawForwarding {
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

/// `[limits]`: time-outs and the connection cap of every listener.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub header_timeout_seconds: Option<u64>,
    pub idle_timeout_seconds: Option<u64>,
    pub max_connections: Option<u64>,
}

/// `[store]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub backend: Option<String>,
    #[serde(default)]
    pub etcd_endpoints: Vec<String>,
}

/// `[admin]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    pub listen: Option<String>,
    #[serde(default)]
    pub cors_origins: Vec<String>,
    pub session_timeout_minutes: Option<u32>,
    pub session_lifetime_seconds: Option<u64>,
}

/// `[http]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub listen: Option<String>,
    pub insecure: Option<String>,
}

/// One `[[listener]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListener {
    pub role: String,
    pub https: String,
    pub certdir: Option<String>,
    pub tls_profile: Option<String>,
    pub session_resumption: Option<bool>,
}

/// `[acme]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAcme {
    pub directory: Option<String>,
    pub ca_bundle: Option<String>,
    pub challenge: Option<String>,
}

/// `[monitor]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonitor {
    pub warn_days: Option<u32>,
    pub webhook: Option<String>,
    pub interval_seconds: Option<u64>,
}

/// `upstream_trust`: a boolean or a CA file path.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawTrust {
    Flag(bool),
    File(String),
}

/// One `[[route]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub host: String,
    pub path: Option<String>,
    pub upstream: String,
    pub upstream_trust: Option<RawTrust>,
    pub upstream_trust_password: Option<String>,
    pub client_auth: Option<String>,
    pub client_ca: Option<String>,
    #[serde(default)]
    pub allowed_thumbprints: Vec<String>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password: Option<String>,
    pub websocket: Option<bool>,
}

/// One `[[platform]]`: a platform model the API may plan and apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlatform {
    pub model: String,
    pub root: Option<String>,
    pub run_reloads: Option<bool>,
}
