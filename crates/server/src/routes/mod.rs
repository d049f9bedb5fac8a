//! Routes: which upstream a request on an HTTPS listener goes to, and who may use it.
//!
//! A route is a host (exact, or `*.suffix` for one label under it) and a path prefix;
//! the longest prefix ending on a path-segment boundary wins, exact hosts before
//! wildcards, always on the request's normalised path
//! ([`certfleet_edge::http_path`], [`certfleet_edge::route_table`]). Each route carries
//! what is built once at start-up: its upstream client (with the route's
//! `upstream_trust`), its client-certificate policy and its basic authentication.
//!
//! - [`trust_file`]: CA files in PEM, DER, JKS or PKCS#12;
//! - [`upstream_tls`]: the TLS client settings for `upstream_trust`;
//! - [`client_auth`]: client certificates, in the handshake and per route;
//! - [`basic_auth`]: the `Authorization: Basic` check;
//! - [`request_checks`]: what a request must be before any route is chosen (one host,
//!   a path with one reading);
//! - [`upgrade`]: which protocol upgrades pass (a WebSocket, where the route allows it);
//! - [`proxy`]: passing a request (HTTP/1.1, HTTP/2 or a WebSocket upgrade) upstream;
//! - [`service`]: the per-request dispatch that ties them together.

pub mod basic_auth;
pub mod client_auth;
pub mod proxy;
pub mod request_checks;
pub mod service;
pub mod trust_file;
pub mod upgrade;
pub mod upstream_tls;

use anyhow::{Context, Result};
use certfleet_config::{BasicAuth, ClientAuth, RouteConfig};
use certfleet_edge::address_range::AddressRange;
use certfleet_edge::http_path::NormalPath;
use certfleet_edge::route_table::{self, PathPrefix};
use client_auth::RouteClientAuth;
use proxy::Upstream;
use std::net::IpAddr;

/// One configured route, ready to serve.
pub struct Route {
    /// The host as configured (lower-case; may start with `*.`).
    pub host: String,
    /// The path prefix, starting with `/`, in canonical form.
    pub path: String,
    /// Where requests go.
    pub upstream: Upstream,
    /// Client-certificate policy (`None` when `client_auth = "off"`).
    pub client_auth: Option<RouteClientAuth>,
    /// Basic authentication, when configured.
    pub basic_auth: Option<BasicAuth>,
    /// Whether WebSocket upgrades pass (`websocket`, default true).
    pub websocket: bool,
}

impl Route {
    /// A short name for messages: `host/path`.
    pub fn label(&self) -> String {
        format!("{}{}", self.host, self.path)
    }
}

/// Every route, indexed by host, and the proxies whose forwarding headers are trusted.
#[derive(Default)]
pub struct RouteTable {
    routes: route_table::RouteTable<Route>,
    trusted_proxies: Vec<AddressRange>,
}

impl RouteTable {
    /// Builds the routes of the configuration: loads trust files and client CAs, and
    /// makes one upstream client per route. Errors name the route and the file.
    /// `trusted_proxies` (`[forwarding]`) are the ranges whose `X-Forwarded-For` is
    /// extended rather than replaced.
    pub fn build(configs: &[RouteConfig], trusted_proxies: &[String]) -> Result<RouteTable> {
        let mut table = RouteTable::default();
        for range in trusted_proxies {
            let range = range
                .parse::<AddressRange>()
                .context("[forwarding] trusted_proxies")?;
            table.trusted_proxies.push(range);
        }
        for (index, config) in configs.iter().enumerate() {
            let label = format!("[[route]] #{} (host {})", index + 1, config.host);
            let prefix = PathPrefix::new(&config.path).with_context(|| label.clone())?;
            let route = build_route(config).context(label)?;
            table.routes.insert(&config.host, prefix, route);
        }
        Ok(table)
    }

    /// The route for `host` (lower-case, no port) and the request's normalised `path`.
    pub fn find(&self, host: &str, path: &NormalPath) -> Option<&Route> {
        self.routes.find(host, path)
    }

    /// Every route that answers `host`, exact ones first.
    pub fn routes_for_host<'a>(&'a self, host: &str) -> impl Iterator<Item = &'a Route> + 'a {
        self.routes.routes_for_host(host)
    }

    /// True when some route answers `host` (by name or by a `*.` pattern).
    pub fn answers_host(&self, host: &str) -> bool {
        self.routes.answers_host(host)
    }

    /// True when `client` is one of the trusted proxies.
    pub fn is_trusted_proxy(&self, client: IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .any(|range| range.contains(client))
    }

    /// Every configured host key (exact names and `*.` patterns).
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.routes.hosts()
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
        websocket: config.websocket,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use certfleet_config::UpstreamTrust;
    use certfleet_edge::http_path::normalise;

    /// A route to a plain-HTTP upstream, with every other setting at its default.
    pub(crate) fn route(host: &str, path: &str) -> RouteConfig {
        RouteConfig {
            host: host.into(),
            path: path.into(),
            upstream: format!("http://127.0.0.1:9/{host}{path}"),
            upstream_trust: UpstreamTrust::System,
            client_auth: ClientAuth::Off,
            client_ca: None,
            allowed_thumbprints: Vec::new(),
            basic_auth: None,
            websocket: true,
        }
    }

    fn found(table: &RouteTable, host: &str, path: &str) -> Option<String> {
        table
            .find(host, &normalise(path).unwrap())
            .map(Route::label)
    }

    #[test]
    fn requests_reach_the_route_of_their_normalised_path() {
        let host = "app.example.test";
        let table = RouteTable::build(&[route(host, "/"), route(host, "/admin")], &[]).unwrap();
        for path in [
            "/admin/x",
            "/./admin/x",
            "//admin/x",
            "/y/../admin/x",
            "/%61dmin/x",
        ] {
            assert_eq!(
                found(&table, host, path).as_deref(),
                Some("app.example.test/admin"),
                "{path}"
            );
        }
        assert_eq!(
            found(&table, host, "/adminx").as_deref(),
            Some("app.example.test/")
        );
        assert!(table.answers_host(host));
        assert!(!table.answers_host("other.example.test"));
    }

    #[test]
    fn a_prefix_not_in_canonical_form_is_refused_naming_the_route() {
        let err = RouteTable::build(&[route("a.test", "/admin//x")], &[])
            .err()
            .expect("a path with // is refused");
        let text = format!("{err:#}");
        assert!(text.contains("[[route]] #1 (host a.test)"), "{text}");
        assert!(text.contains("write '/admin/x'"), "{text}");
    }

    #[test]
    fn trusted_proxies_are_ranges() {
        let proxies = ["127.0.0.2/32".to_owned(), "10.0.0.0/8".to_owned()];
        let table = RouteTable::build(&[], &proxies).unwrap();
        assert!(table.is_trusted_proxy("127.0.0.2".parse().unwrap()));
        assert!(table.is_trusted_proxy("10.1.2.3".parse().unwrap()));
        assert!(!table.is_trusted_proxy("127.0.0.1".parse().unwrap()));
        let err = RouteTable::build(&[], &["10.0.0.0/40".to_owned()])
            .err()
            .expect("a prefix over 32 bits is refused");
        let text = format!("{err:#}");
        assert!(text.contains("[forwarding] trusted_proxies"), "{text}");
        assert!(text.contains("'10.0.0.0/40'"), "{text}");
    }
}
