//! Routes: which upstream a request on an HTTPS listener goes to, and who may use it.
//!
//! A route is a host (exact, or `*.suffix` for one label under it) and a path prefix;
//! the longest prefix ending on a path-segment boundary wins, exact hosts before
//! wildcards. Each route carries what is built once at start-up: its upstream client
//! (with the route's `upstream_trust`), its client-certificate policy and its basic
//! authentication.
//!
//! - [`trust_file`]: CA files in PEM, DER, JKS or PKCS#12;
//! - [`upstream_tls`]: the TLS client settings for `upstream_trust`;
//! - [`client_auth`]: client certificates, in the handshake and per route;
//! - [`basic_auth`]: the `Authorization: Basic` check;
//! - [`proxy`]: passing a request (HTTP/1.1, HTTP/2 or a WebSocket upgrade) upstream;
//! - [`service`]: the per-request dispatch that ties them together.

pub mod basic_auth;
pub mod client_auth;
pub mod proxy;
pub mod service;
pub mod trust_file;
pub mod upstream_tls;

use crate::config::{BasicAuth, ClientAuth, RouteConfig};
use anyhow::{Context, Result};
use client_auth::RouteClientAuth;
use proxy::Upstream;
use std::collections::HashMap;

/// One configured route, ready to serve.
pub struct Route {
    /// The host as configured (lower-case; may start with `*.`).
    pub host: String,
    /// The path prefix, starting with `/`.
    pub path: String,
    /// Where requests go.
    pub upstream: Upstream,
    /// Client-certificate policy (`None` when `client_auth = "off"`).
    pub client_auth: Option<RouteClientAuth>,
    /// Basic authentication, when configured.
    pub basic_auth: Option<BasicAuth>,
}

impl Route {
    /// A short name for messages: `host/path`.
    pub fn label(&self) -> String {
        format!("{}{}", self.host, self.path)
    }

    fn matches_path(&self, path: &str) -> bool {
        match path.strip_prefix(self.path.as_str()) {
            Some(rest) => self.path.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

/// Every route, indexed by host.
#[derive(Default)]
pub struct RouteTable {
    /// Routes per configured host, longest path first.
    by_host: HashMap<String, Vec<Route>>,
}

impl RouteTable {
    /// Builds the routes of the configuration: loads trust files and client CAs, and
    /// makes one upstream client per route. Errors name the route and the file.
    pub fn build(configs: &[RouteConfig]) -> Result<RouteTable> {
        let mut table = RouteTable::default();
        for (index, config) in configs.iter().enumerate() {
            let label = format!("[[route]] #{} (host {})", index + 1, config.host);
            let route = build_route(config).context(label)?;
            table
                .by_host
                .entry(route.host.clone())
                .or_default()
                .push(route);
        }
        for routes in table.by_host.values_mut() {
            routes.sort_by_key(|route| std::cmp::Reverse(route.path.len()));
        }
        Ok(table)
    }

    /// The route for `host` (lower-case, no port) and `path`.
    pub fn find(&self, host: &str, path: &str) -> Option<&Route> {
        let mut exact = self.by_host.get(host).into_iter().flatten();
        let wildcard = host
            .split_once('.')
            .and_then(|(_, parent)| self.by_host.get(&format!("*.{parent}")))
            .into_iter()
            .flatten();
        exact
            .find(|route| route.matches_path(path))
            .or_else(|| wildcard.into_iter().find(|route| route.matches_path(path)))
    }

    /// Every route that answers `host`, exact ones first.
    pub fn routes_for_host<'a>(&'a self, host: &str) -> impl Iterator<Item = &'a Route> + 'a {
        // A `*.` pattern's routes are its own; a name also gets its parent's pattern's.
        let wildcard_key = host
            .split_once('.')
            .filter(|_| !host.starts_with("*."))
            .map(|(_, parent)| format!("*.{parent}"));
        let exact = self.by_host.get(host).into_iter().flatten();
        let wildcard = wildcard_key
            .and_then(|key| self.by_host.get(&key))
            .into_iter()
            .flatten();
        exact.chain(wildcard)
    }

    /// Every configured host key (exact names and `*.` patterns).
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.by_host.keys().map(String::as_str)
    }
}

fn build_route(config: &RouteConfig) -> Result<Route> {
    let upstream = Upstream::new(&config.upstream, &config.upstream_trust)?;
    let client_auth = match config.client_auth {
        ClientAuth::Off => None,
        mode => Some(RouteClientAuth::load(
            mode,
            config.client_ca.as_deref(),
            &config.allowed_thumbprints,
        )?),
    };
    Ok(Route {
        host: config.host.clone(),
        path: config.path.clone(),
        upstream,
        client_auth,
        basic_auth: config.basic_auth.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::UpstreamTrust;

    fn route(host: &str, path: &str) -> RouteConfig {
        RouteConfig {
            host: host.into(),
            path: path.into(),
            upstream: format!("http://127.0.0.1:9/{host}{path}"),
            upstream_trust: UpstreamTrust::System,
            client_auth: ClientAuth::Off,
            client_ca: None,
            allowed_thumbprints: Vec::new(),
            basic_auth: None,
        }
    }

    fn found(table: &RouteTable, host: &str, path: &str) -> Option<String> {
        table.find(host, path).map(Route::label)
    }

    #[test]
    fn longest_prefix_on_a_segment_boundary_wins() {
        let table = RouteTable::build(&[
            route("app.example.test", "/"),
            route("app.example.test", "/api"),
            route("app.example.test", "/api/v2/"),
        ])
        .unwrap();
        let host = "app.example.test";
        assert_eq!(found(&table, host, "/api").unwrap(), "app.example.test/api");
        assert_eq!(
            found(&table, host, "/api/x").unwrap(),
            "app.example.test/api"
        );
        assert_eq!(found(&table, host, "/apix").unwrap(), "app.example.test/");
        assert_eq!(
            found(&table, host, "/api/v2/users").unwrap(),
            "app.example.test/api/v2/"
        );
        assert_eq!(found(&table, "other.example.test", "/"), None);
    }

    #[test]
    fn exact_hosts_come_before_wildcards() {
        let table = RouteTable::build(&[
            route("*.example.test", "/"),
            route("app.example.test", "/only"),
        ])
        .unwrap();
        assert_eq!(
            found(&table, "app.example.test", "/only/x").unwrap(),
            "app.example.test/only"
        );
        assert_eq!(
            found(&table, "app.example.test", "/").unwrap(),
            "*.example.test/"
        );
        assert_eq!(
            found(&table, "b.example.test", "/").unwrap(),
            "*.example.test/"
        );
        assert_eq!(found(&table, "a.b.example.test", "/"), None);
    }
}
