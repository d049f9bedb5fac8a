//! From the raw model to a [`Platform`]: every value parsed, every reference checked,
//! every default filled in. Each error names the model file, the line and the key.

use crate::error::Result;
use crate::maintenance::MaintenanceWindow;
use crate::model::{Locator, RawModel, RawService, Text};
use crate::spec::{is_client, serves, usage_name, Connection, IssuerKind, Node, Platform, Service};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::names::{san_set, San};
use certfleet_pki::profile::Usage;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use toml::Spanned;

mod csr;
mod duration;
mod inbound;
mod listed_trust;
mod output;
mod peer_keys;
mod placement;
#[cfg(test)]
mod placement_tests;
mod subject;

const DEFAULT_DAYS: u32 = certfleet_pki::profile::DEFAULT_LEAF_DAYS;

/// Names used as file names in the state directory: letters, digits, `.`, `_`, `-`.
fn check_name(loc: &Locator, name: &Text, key: &str) -> Result<()> {
    let text = name.get_ref();
    let ok = !text.is_empty()
        && !text.starts_with('.')
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(loc.at(
            name,
            key,
            format!("'{text}' is not a usable name: use letters, digits, '.', '_' and '-' (not starting with '.')"),
        ))
    }
}

fn key_algorithm(loc: &Locator, text: &Text, key: &str, allow_weak: bool) -> Result<KeyAlgorithm> {
    let alg: KeyAlgorithm = text
        .get_ref()
        .parse()
        .map_err(|e| loc.at(text, key, format!("{e}")))?;
    if alg.is_weak() && !allow_weak {
        return Err(loc.at(
            text,
            key,
            "rsa1024 is only for legacy peers; set allow_weak = true in [platform] to accept it",
        ));
    }
    Ok(alg)
}

fn issuer(loc: &Locator, text: &Text, key: &str) -> Result<IssuerKind> {
    IssuerKind::parse(text.get_ref()).ok_or_else(|| {
        loc.at(
            text,
            key,
            format!(
                "unknown issuer '{}'; expected internal, self-signed, external or acme",
                text.get_ref()
            ),
        )
    })
}

fn days(loc: &Locator, value: &Spanned<i64>, key: &str) -> Result<u32> {
    u32::try_from(*value.get_ref())
        .ok()
        .filter(|d| (1..=36_500).contains(d))
        .ok_or_else(|| loc.at(value, key, "must be a number of days between 1 and 36500"))
}

fn ip(loc: &Locator, text: &Text, key: &str) -> Result<IpAddr> {
    text.get_ref().parse().map_err(|_| {
        loc.at(
            text,
            key,
            format!("'{}' is not an IP address", text.get_ref()),
        )
    })
}

/// Checks the raw model and builds the platform.
pub fn validate(loc: &Locator, raw: &RawModel) -> Result<Platform> {
    let p = raw.platform.get_ref();
    check_name(loc, &p.name, "platform.name")?;
    let allow_weak = p.allow_weak.unwrap_or(false);
    let default_key = match &p.key {
        Some(k) => key_algorithm(loc, k, "platform.key", allow_weak)?,
        None => KeyAlgorithm::EcdsaP256,
    };
    let default_issuer = match &p.ca {
        Some(c) => issuer(loc, c, "platform.ca")?,
        None => IssuerKind::Internal,
    };
    let default_days = match &p.days {
        Some(d) => days(loc, d, "platform.days")?,
        None => DEFAULT_DAYS,
    };
    let reload_timeout = match &p.reload_timeout {
        Some(t) => duration::time_limit(loc, t, "platform.reload_timeout")?,
        None => duration::DEFAULT_RELOAD_TIMEOUT,
    };
    let default_subject = subject::platform_subject(loc, p)?;
    let ca_dir = match &p.ca_dir {
        Some(d) if d.get_ref().trim().is_empty() => {
            return Err(loc.at(d, "platform.ca_dir", "must not be empty"))
        }
        Some(d) => d.get_ref().clone(),
        None => "ca".to_owned(),
    };

    // By name, so services find their node in O(log n).
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    for raw_node in &raw.node {
        let n = raw_node.get_ref();
        check_name(loc, &n.name, "node.name")?;
        if nodes.contains_key(n.name.get_ref()) {
            return Err(loc.at(
                &n.name,
                "node.name",
                format!("node '{}' is defined twice", n.name.get_ref()),
            ));
        }
        certfleet_pki::names::dns(n.fqdn.get_ref())
            .map_err(|e| loc.at(&n.fqdn, "node.fqdn", e.to_string()))?;
        let ips = n
            .ips
            .iter()
            .map(|i| ip(loc, i, "node.ips"))
            .collect::<Result<Vec<_>>>()?;
        let maintenance = windows(loc, &n.maintenance, "node.maintenance")?;
        nodes.insert(
            n.name.get_ref().clone(),
            Node {
                name: n.name.get_ref().clone(),
                fqdn: n.fqdn.get_ref().to_ascii_lowercase(),
                ips,
                maintenance,
            },
        );
    }

    // Names first, so connections and allowed_clients can refer forward.
    let mut service_names: BTreeMap<String, usize> = BTreeMap::new();
    for raw_service in &raw.service {
        let s = raw_service.get_ref();
        check_name(loc, &s.name, "service.name")?;
        if service_names.contains_key(s.name.get_ref()) {
            return Err(loc.at(
                &s.name,
                "service.name",
                format!("service '{}' is defined twice", s.name.get_ref()),
            ));
        }
        service_names.insert(s.name.get_ref().clone(), service_names.len());
    }
    let unknown_service = |text: &Text, key: &str| {
        loc.at(
            text,
            key,
            format!(
                "no service is called '{}' (services: {})",
                text.get_ref(),
                service_names.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    };

    let mut connections = Vec::new();
    let mut connected: BTreeSet<(&str, &str)> = BTreeSet::new();
    // Roles the connections give each service, for the default usage and for checks.
    let mut is_server_of: BTreeSet<String> = BTreeSet::new();
    let mut mtls_client: BTreeSet<String> = BTreeSet::new();
    for raw_conn in &raw.connection {
        let c = raw_conn.get_ref();
        for (text, key) in [(&c.from, "connection.from"), (&c.to, "connection.to")] {
            if !service_names.contains_key(text.get_ref()) {
                return Err(unknown_service(text, key));
            }
        }
        // A shared certificate's nodes may call each other (a cluster's internode TLS).
        if c.from.get_ref() == c.to.get_ref() && !placement::is_shared(raw, c.to.get_ref()) {
            return Err(loc.at(
                &c.to,
                "connection.to",
                "a service does not connect to itself (only the nodes of a shared certificate connect to each other)",
            ));
        }
        if !connected.insert((c.from.get_ref(), c.to.get_ref())) {
            return Err(loc.at(
                &c.from,
                "connection",
                format!(
                    "the connection from {} to {} is listed twice",
                    c.from.get_ref(),
                    c.to.get_ref()
                ),
            ));
        }
        is_server_of.insert(c.to.get_ref().clone());
        if c.mutual() {
            mtls_client.insert(c.from.get_ref().clone());
        }
        connections.push(Connection {
            from: c.from.get_ref().clone(),
            to: c.to.get_ref().clone(),
            mtls: c.mutual(),
        });
    }
    for raw_service in &raw.service {
        for client in &raw_service.get_ref().allowed_clients {
            if !service_names.contains_key(client.get_ref()) {
                return Err(unknown_service(client, "service.allowed_clients"));
            }
            if client.get_ref() == raw_service.get_ref().name.get_ref() {
                return Err(loc.at(
                    client,
                    "service.allowed_clients",
                    "a service does not need to allow itself",
                ));
            }
            mtls_client.insert(client.get_ref().clone());
        }
    }
    inbound::check_inbound(loc, raw)?;

    let mut services = Vec::new();
    let mut seen_paths: BTreeMap<String, usize> = BTreeMap::new();
    for raw_service in &raw.service {
        let service = build_service(
            loc,
            raw_service,
            &nodes,
            Defaults {
                key: default_key,
                issuer: default_issuer,
                days: default_days,
                allow_weak,
                reload_timeout,
                subject: &default_subject,
            },
            is_server_of.contains(raw_service.get_ref().name.get_ref()),
            mtls_client.contains(raw_service.get_ref().name.get_ref()),
        )?;
        for out in &service.outputs {
            if let Some(line) = seen_paths.insert(out.path.clone(), out.line) {
                // The output as written (one written output may be one per node).
                let at = raw_service
                    .get_ref()
                    .output
                    .iter()
                    .find(|o| loc.line(o.get_ref().format.span().start) == out.line)
                    .map_or(raw_service.span().start, |o| o.get_ref().path.span().start);
                return Err(loc.error(
                    at,
                    "service.output.path",
                    format!(
                        "'{}' is already the path of the output on line {line}",
                        out.path
                    ),
                ));
            }
        }
        services.push(service);
    }

    check_roles(loc, raw, &services)?;

    // A new CA is never made with a weak key, nor with one its services' peers refuse.
    let ca_key = peer_keys::ca_key(default_key, &services);
    let mut platform = Platform::new(
        p.name.get_ref().clone(),
        ca_dir,
        ca_key,
        services,
        connections,
    );
    if let Some(value) = &p.max_unavailable {
        platform.max_unavailable = u32::try_from(*value.get_ref())
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                loc.at(
                    value,
                    "platform.max_unavailable",
                    format!(
                        "{} is not between 1 and 1000 (how many services of a group agents update at once)",
                        value.get_ref()
                    ),
                )
            })?;
    }
    Ok(platform)
}

struct Defaults<'a> {
    key: KeyAlgorithm,
    issuer: IssuerKind,
    days: u32,
    allow_weak: bool,
    reload_timeout: std::time::Duration,
    subject: &'a certfleet_pki::subject::SubjectAttributes,
}

fn build_service(
    loc: &Locator,
    raw: &Spanned<RawService>,
    nodes: &BTreeMap<String, Node>,
    defaults: Defaults<'_>,
    is_server: bool,
    is_mtls_client: bool,
) -> Result<Service> {
    let s = raw.get_ref();
    let name = s.name.get_ref().clone();
    let placed_on = placement::service_nodes(loc, s, nodes)?;
    // The first node: where an appliance's CSR is made, and the CN's default (the list
    // is never empty: service_nodes refuses a service without a node).
    let node = placed_on[0];
    let usage = match &s.usage {
        Some(u) => u
            .get_ref()
            .parse::<Usage>()
            .map_err(|e| loc.at(u, "service.usage", e.to_string()))?,
        None if is_mtls_client && is_server => Usage::Both,
        None if is_mtls_client => Usage::Client,
        None => Usage::Server,
    };
    let key = peer_keys::service_key(loc, s, defaults.key, defaults.allow_weak)?;
    let days = match &s.days {
        Some(d) => days(loc, d, "service.days")?,
        None => defaults.days,
    };
    let subject = subject::service_subject(loc, s, defaults.subject)?;
    let issuer_kind = match &s.ca {
        Some(c) => issuer(loc, c, "service.ca")?,
        None => defaults.issuer,
    };
    if issuer_kind == IssuerKind::Acme && usage == Usage::Client {
        return Err(loc.at(
            s.ca.as_ref().unwrap_or(&s.name),
            "service.ca",
            "ACME issues server certificates; a client-only service needs another issuer",
        ));
    }
    let (cn, dns_names, ips) = if issuer_kind == IssuerKind::Acme {
        acme_names(loc, s)?
    } else {
        let cn = match &s.cn {
            Some(cn) => {
                San::from_cn(cn.get_ref()).map_err(|e| {
                    loc.at(cn, "service.cn", e.to_string().replacen("--cn '", "'", 1))
                })?;
                cn.get_ref().to_ascii_lowercase()
            }
            None => csr::default_cn(s).unwrap_or_else(|| node.fqdn.clone()),
        };
        // A shared certificate names every node it serves.
        let mut dns_names: Vec<String> = placed_on.iter().map(|n| n.fqdn.clone()).collect();
        for name in &s.san {
            dns_names.push(san_name(loc, name)?);
        }
        let mut ips: Vec<IpAddr> = Vec::new();
        for addr in placed_on.iter().flat_map(|n| &n.ips) {
            if !ips.contains(addr) {
                ips.push(*addr);
            }
        }
        for text in &s.ips {
            let addr = ip(loc, text, "service.ips")?;
            if !ips.contains(&addr) {
                ips.push(addr);
            }
        }
        (cn, dns_names, ips)
    };
    let sans = san_set(&cn, &dns_names, &ips)
        .map_err(|e| loc.at(&s.name, "service.san", e.to_string()))?;
    for listener in &s.listeners {
        let ok = listener
            .get_ref()
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !ok {
            return Err(loc.at(
                listener,
                "service.listeners",
                format!(
                    "'{}' is not an address and port such as 0.0.0.0:443",
                    listener.get_ref()
                ),
            ));
        }
    }
    let reload = match &s.reload {
        Some(r) if r.get_ref().trim().is_empty() => {
            return Err(loc.at(
                r,
                "service.reload",
                "must not be empty; leave it out instead",
            ))
        }
        Some(r) => Some(placement::reload_per_node(r.get_ref(), &placed_on)),
        None => None,
    };
    let reload_timeout = match &s.reload_timeout {
        Some(t) => duration::time_limit(loc, t, "service.reload_timeout")?,
        None => defaults.reload_timeout,
    };
    let hook = match &s.hook {
        Some(h) => Some(hook_name(loc, h)?),
        None => None,
    };
    let maintenance = match &s.maintenance {
        Some(own) => windows(loc, own, "service.maintenance")?,
        None => node.maintenance.clone(),
    };
    let outputs = s
        .output
        .iter()
        .map(|o| output::build_output(loc, o, issuer_kind))
        .collect::<Result<Vec<_>>>()?;
    let outputs = placement::outputs_per_node(loc, s, outputs, &placed_on)?;
    let requested = csr::requested(loc, s, issuer_kind, &cn, &sans)?;
    let csr_file = csr::csr_file(loc, s, issuer_kind, &outputs)?;
    Ok(Service {
        name,
        kind: s.kind.as_ref().map(|k| k.get_ref().clone()),
        group: match &s.group {
            Some(g) => Some(group_name(loc, g)?),
            None => None,
        },
        node: node.name.clone(),
        nodes: placed_on.iter().map(|n| n.name.clone()).collect(),
        cn,
        dns_names,
        ips,
        sans,
        requested,
        csr_file,
        usage,
        key,
        days,
        subject,
        issuer: issuer_kind,
        listeners: s.listeners.iter().map(|l| l.get_ref().clone()).collect(),
        allowed_clients: s
            .allowed_clients
            .iter()
            .map(|c| c.get_ref().clone())
            .collect(),
        reload,
        reload_timeout,
        hook,
        maintenance,
        outputs,
        trust_files: listed_trust::trust_files(loc, s)?,
    })
}

/// The maintenance windows written at `key`.
fn windows(loc: &Locator, written: &[Text], key: &str) -> Result<Vec<MaintenanceWindow>> {
    written
        .iter()
        .map(|text| MaintenanceWindow::parse(text.get_ref()).map_err(|err| loc.at(text, key, err)))
        .collect()
}

/// A `hook` name: letters, digits, `.`, `_` and `-`, so that it reads as a name in the
/// agent's configuration and is never mistaken for a command.
fn hook_name(loc: &Locator, name: &Text) -> Result<String> {
    let text = name.get_ref();
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(loc.at(
            name,
            "service.hook",
            format!(
                "'{}' is not a hook name: use 1 to 64 letters, digits, '.', '_' and '-' (the command itself goes into the agent's [hooks] on the node)",
                text.escape_debug()
            ),
        ));
    }
    Ok(text.clone())
}

/// A `group` name: like a hook name, letters, digits, `.`, `_` and `-` (it is a path
/// segment of the rollout API).
fn group_name(loc: &Locator, name: &Text) -> Result<String> {
    let text = name.get_ref();
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(loc.at(
            name,
            "service.group",
            format!(
                "'{}' is not a group name: use 1 to 64 letters, digits, '.', '_' and '-'",
                text.escape_debug()
            ),
        ));
    }
    Ok(text.clone())
}

/// A `san` entry, checked and lower-cased.
fn san_name(loc: &Locator, name: &Text) -> Result<String> {
    certfleet_pki::names::dns(name.get_ref())
        .map_err(|e| loc.at(name, "service.san", e.to_string()))?;
    Ok(name.get_ref().to_ascii_lowercase())
}

/// The names of an ACME service: exactly what is ordered from the public CA, so its `cn`
/// (else its first `san` entry) and its `san` entries, all DNS names. The node's FQDN
/// and addresses are left out (a public CA issues for neither internal names nor
/// private addresses), and `ips` is refused.
fn acme_names(loc: &Locator, s: &RawService) -> Result<(String, Vec<String>, Vec<IpAddr>)> {
    if let Some(first) = s.ips.first() {
        return Err(loc.at(
            first,
            "service.ips",
            "an ACME service gets no certificate for IP addresses; leave ips out, or give the service another issuer",
        ));
    }
    let public_only = |text: &Text, key: &str| {
        if text.get_ref().parse::<IpAddr>().is_ok() {
            Err(loc.at(
                text,
                key,
                format!(
                    "'{}' is an IP address; ACME orders DNS names only",
                    text.get_ref()
                ),
            ))
        } else {
            Ok(())
        }
    };
    let mut dns_names = Vec::new();
    for name in &s.san {
        public_only(name, "service.san")?;
        dns_names.push(san_name(loc, name)?);
    }
    let cn = match (&s.cn, dns_names.first()) {
        (Some(cn), _) => {
            public_only(cn, "service.cn")?;
            certfleet_pki::names::dns(cn.get_ref())
                .map_err(|e| loc.at(cn, "service.cn", e.to_string()))?;
            cn.get_ref().to_ascii_lowercase()
        }
        (None, Some(first)) => first.clone(),
        (None, None) => {
            return Err(loc.at(
                &s.name,
                "service.cn",
                "an ACME service needs the public name to order: set cn (the node's FQDN is not used for ACME)",
            ))
        }
    };
    Ok((cn, dns_names, Vec::new()))
}

/// Connections and allow-lists against the usages: an mTLS client needs a client
/// certificate, a server a server certificate.
fn check_roles(loc: &Locator, raw: &RawModel, services: &[Service]) -> Result<()> {
    let usages: BTreeMap<&str, Usage> = services
        .iter()
        .map(|s| (s.name.as_str(), s.usage))
        .collect();
    let usage_of = |name: &str| usages.get(name).copied().unwrap_or(Usage::Both);
    for raw_conn in &raw.connection {
        let c = raw_conn.get_ref();
        let server_usage = usage_of(c.to.get_ref());
        if !serves(server_usage) {
            return Err(loc.at(
                &c.to,
                "connection.to",
                format!(
                    "'{}' is the server of this connection but its usage is \"{}\"; set usage = \"server\" or \"both\"",
                    c.to.get_ref(),
                    usage_name(server_usage)
                ),
            ));
        }
        let client_usage = usage_of(c.from.get_ref());
        if c.mutual() && !is_client(client_usage) {
            return Err(loc.at(
                &c.from,
                "connection.from",
                format!(
                    "'{}' is the client of a mutual-TLS connection but its usage is \"{}\"; set usage = \"client\" or \"both\"",
                    c.from.get_ref(),
                    usage_name(client_usage)
                ),
            ));
        }
    }
    for raw_service in &raw.service {
        for client in &raw_service.get_ref().allowed_clients {
            let usage = usage_of(client.get_ref());
            if !is_client(usage) {
                return Err(loc.at(
                    client,
                    "service.allowed_clients",
                    format!(
                        "'{}' has usage \"{}\", so it has no client certificate to allow",
                        client.get_ref(),
                        usage_name(usage)
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
