//! The server configuration file as written (docs/CLI.md, "The server's configuration file"):
//! serde structures that refuse unknown keys, before any meaning is checked.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) data_dir: Option<String>,
    #[serde(default)]
    pub(crate) store: RawStore,
    #[serde(default)]
    pub(crate) admin: RawAdmin,
    #[serde(default)]
    pub(crate) http: RawHttp,
    #[serde(default)]
    pub(crate) listener: Vec<RawListener>,
    #[serde(default)]
    pub(crate) aliases: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) acme: RawAcme,
    #[serde(default)]
    pub(crate) monitor: RawMonitor,
    #[serde(default)]
    pub(crate) route: Vec<RawRoute>,
    #[serde(default)]
    pub(crate) platform: Vec<RawPlatform>,
    #[serde(default)]
    pub(crate) limits: RawLimits,
    #[serde(default)]
    pub(crate) forwarding: RawForwarding,
    pub(crate) agents: Option<super::agents::RawAgents>,
    pub(crate) metrics: Option<super::metrics::RawMetrics>,
}

/// `[forwarding]`: what the edge tells upstreams about clients.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawForwarding {
    #[serde(default)]
    pub(crate) trusted_proxies: Vec<String>,
}

/// `[limits]`: time-outs and the connection cap of every listener.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub(crate) header_timeout_seconds: Option<u64>,
    pub(crate) idle_timeout_seconds: Option<u64>,
    pub(crate) max_connections: Option<u64>,
}

/// `[store]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStore {
    pub(crate) backend: Option<String>,
    #[serde(default)]
    pub(crate) etcd_endpoints: Vec<String>,
}

/// `[admin]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    pub(crate) listen: Option<String>,
    #[serde(default)]
    pub(crate) cors_origins: Vec<String>,
    pub(crate) session_timeout_minutes: Option<u32>,
    pub(crate) session_lifetime_seconds: Option<u64>,
}

/// `[http]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttp {
    pub(crate) listen: Option<String>,
    pub(crate) insecure: Option<String>,
}

/// One `[[listener]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawListener {
    pub(crate) role: String,
    pub(crate) https: String,
    pub(crate) certdir: Option<String>,
    pub(crate) tls_profile: Option<String>,
    pub(crate) session_resumption: Option<bool>,
}

/// `[acme]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAcme {
    pub(crate) directory: Option<String>,
    pub(crate) ca_bundle: Option<String>,
    pub(crate) challenge: Option<String>,
    pub(crate) email: Option<String>,
}

/// `[monitor]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMonitor {
    pub(crate) warn_days: Option<u32>,
    pub(crate) webhook: Option<String>,
    pub(crate) interval_seconds: Option<u64>,
}

/// `upstream_trust`: a boolean or a CA file path.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawTrust {
    Flag(bool),
    File(String),
}

/// One `[[route]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub(crate) host: String,
    pub(crate) path: Option<String>,
    pub(crate) upstream: String,
    pub(crate) upstream_trust: Option<RawTrust>,
    pub(crate) upstream_trust_password: Option<String>,
    pub(crate) client_auth: Option<String>,
    pub(crate) client_ca: Option<String>,
    #[serde(default)]
    pub(crate) allowed_thumbprints: Vec<String>,
    pub(crate) basic_auth_user: Option<String>,
    pub(crate) basic_auth_password: Option<String>,
    pub(crate) websocket: Option<bool>,
}

/// One `[[platform]]`: a platform model the API may plan and apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlatform {
    pub(crate) model: String,
    pub(crate) root: Option<String>,
    pub(crate) run_reloads: Option<bool>,
}
