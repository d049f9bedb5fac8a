//! Scan targets as administrators type them: `HOST:PORT` or `HOST:PORT/SNI`, where HOST is
//! a DNS name, an IPv4 address or an IPv6 address in brackets (`[::1]:443`), and SNI the
//! name to send in the handshake (by default the host when it is a name; none for an IP
//! address). The name the certificate must cover is the SNI, else the host.

use crate::error::{MonitorError, Result};
use rustls_pki_types::ServerName;
use std::fmt;
use std::net::IpAddr;

/// Where to connect: a DNS name or an IP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A DNS name, lower-cased, without a trailing dot.
    Name(String),
    /// An IP address.
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
        }
    }
}

/// One endpoint to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    host: Host,
    port: u16,
    /// The SNI given after `/`, if any.
    explicit_sni: Option<String>,
    /// What the TLS client is given: the SNI name, or the IP address (no SNI).
    server_name: ServerName<'static>,
}

impl Target {
    /// Parses `HOST:PORT` or `HOST:PORT/SNI`; the error names the target and what is
    /// wrong with it.
    pub fn parse(text: &str) -> Result<Target> {
        let bad = |reason: &str| MonitorError::BadTarget {
            target: text.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(bad("empty; expected HOST:PORT or HOST:PORT/SNI"));
        }
        let (endpoint, sni) = match trimmed.split_once('/') {
            Some((endpoint, sni)) => (endpoint, Some(sni)),
            None => (trimmed, None),
        };
        let (host, port) = if let Some(rest) = endpoint.strip_prefix('[') {
            let (inside, after) = rest
                .split_once(']')
                .ok_or_else(|| bad("an IPv6 address opened with '[' is not closed with ']'"))?;
            let ip: IpAddr = inside
                .parse()
                .map_err(|_| bad(&format!("'{inside}' in brackets is not an IPv6 address")))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| bad("no port; expected [IPV6]:PORT, e.g. [::1]:443"))?;
            (Host::Ip(ip), port)
        } else {
            let (host, port) = endpoint
                .rsplit_once(':')
                .ok_or_else(|| bad("no port; expected HOST:PORT, e.g. example.com:443"))?;
            if host.contains(':') {
                return Err(bad(
                    "an IPv6 address must be written in brackets, e.g. [::1]:443",
                ));
            }
            (host_from(host).map_err(|reason| bad(&reason))?, port)
        };
        let port = match port.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => {
                return Err(bad(&format!(
                    "port '{port}' is not a number from 1 to 65535"
                )))
            }
        };
        let explicit_sni = match sni {
            None => None,
            Some("") => return Err(bad("nothing after '/'; expected HOST:PORT/SNI")),
            Some(name) => Some(sni_name(name).map_err(|reason| bad(&reason))?),
        };
        let sent = explicit_sni.as_deref().or(match &host {
            Host::Name(name) => Some(name.as_str()),
            Host::Ip(_) => None,
        });
        let server_name = match (sent, &host) {
            (Some(name), _) => ServerName::try_from(name.to_owned())
                .map_err(|_| bad(&format!("'{name}' is not a DNS name")))?,
            (None, Host::Ip(ip)) => ServerName::IpAddress((*ip).into()),
            (None, Host::Name(name)) => {
                return Err(bad(&format!("'{name}' is not a DNS name")));
            }
        };
        Ok(Target {
            host,
            port,
            explicit_sni,
            server_name,
        })
    }

    /// The host to connect to.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `HOST:PORT`, IPv6 addresses in brackets.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The name sent as SNI: the one given after `/`, else the host when it is a DNS
    /// name; `None` (no SNI) for an IP address without one.
    pub fn sni(&self) -> Option<&str> {
        match (&self.explicit_sni, &self.host) {
            (Some(name), _) => Some(name),
            (None, Host::Name(name)) => Some(name),
            (None, Host::Ip(_)) => None,
        }
    }

    /// What the certificate must be valid for: the SNI, else the host's IP address
    /// (matched against IP address SANs).
    pub fn expected_name(&self) -> String {
        match (self.sni(), &self.host) {
            (Some(name), _) => name.to_owned(),
            (None, Host::Ip(ip)) => ip.to_string(),
            (None, Host::Name(name)) => name.clone(),
        }
    }

    /// The server name handed to the TLS client: the SNI as a DNS name (sent), or the
    /// IP address (rustls then sends no SNI).
    pub fn server_name(&self) -> ServerName<'static> {
        self.server_name.clone()
    }
}

/// `HOST:PORT`, or `HOST:PORT/SNI` when an SNI was given: the canonical spelling.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)?;
        if let Some(sni) = &self.explicit_sni {
            write!(f, "/{sni}")?;
        }
        Ok(())
    }
}

fn host_from(text: &str) -> std::result::Result<Host, String> {
    if text.is_empty() {
        return Err("no host before the port".into());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    dns_name(text)
        .map(Host::Name)
        .map_err(|_| format!("host '{text}' is neither a DNS name nor an IP address"))
}

fn sni_name(text: &str) -> std::result::Result<String, String> {
    if text.parse::<IpAddr>().is_ok() {
        return Err(format!(
            "SNI '{text}' is an IP address; TLS sends only DNS names as SNI (scan HOST:PORT to check an IP address)"
        ));
    }
    dns_name(text).map_err(|_| format!("SNI '{text}' is not a DNS name"))
}

/// A DNS name as rustls would send it, lower-cased and without a trailing dot.
fn dns_name(text: &str) -> std::result::Result<String, ()> {
    let name = text.trim_end_matches('.').to_ascii_lowercase();
    match ServerName::try_from(name.as_str()) {
        Ok(ServerName::DnsName(_)) if !name.starts_with("*.") => Ok(name),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn host_and_port_send_the_host_as_sni() {
        let target = Target::parse("Web.Example.TEST.:8443").unwrap();
        assert_eq!(target.host(), &Host::Name("web.example.test".into()));
        assert_eq!(target.port(), 8443);
        assert_eq!(target.sni(), Some("web.example.test"));
        assert_eq!(target.expected_name(), "web.example.test");
        assert_eq!(target.to_string(), "web.example.test:8443");
        assert_eq!(target.endpoint(), "web.example.test:8443");
    }

    #[test]
    fn an_explicit_sni_follows_a_slash() {
        let target = Target::parse("127.0.0.1:443/app.example.test").unwrap();
        assert_eq!(target.host(), &Host::Ip("127.0.0.1".parse().unwrap()));
        assert_eq!(target.sni(), Some("app.example.test"));
        assert_eq!(target.expected_name(), "app.example.test");
        assert_eq!(target.to_string(), "127.0.0.1:443/app.example.test");
        assert_eq!(target.endpoint(), "127.0.0.1:443");
        assert!(matches!(target.server_name(), ServerName::DnsName(_)));
    }

    #[test]
    fn ip_targets_send_no_sni_and_match_ip_sans() {
        let target = Target::parse("10.0.0.1:636").unwrap();
        assert_eq!(target.sni(), None);
        assert_eq!(target.expected_name(), "10.0.0.1");
        assert!(matches!(target.server_name(), ServerName::IpAddress(_)));
    }

    #[test]
    fn ipv6_addresses_go_in_brackets() {
        let target = Target::parse("[::1]:443").unwrap();
        assert_eq!(target.host(), &Host::Ip("::1".parse().unwrap()));
        assert_eq!(target.to_string(), "[::1]:443");
        assert_eq!(target.expected_name(), "::1");
        let target = Target::parse("[2001:db8::5]:8443/x.example.test").unwrap();
        assert_eq!(target.endpoint(), "[2001:db8::5]:8443");
        assert_eq!(target.sni(), Some("x.example.test"));
    }

    #[test]
    fn bad_targets_are_refused_naming_the_target_and_the_fault() {
        for (text, says) in [
            ("", "empty"),
            ("example.com", "no port"),
            ("example.com:", "port ''"),
            ("example.com:0", "port '0'"),
            ("example.com:65536", "port '65536'"),
            ("example.com:https", "port 'https'"),
            (":443", "no host"),
            ("::1:443", "brackets"),
            ("[::1:443", "not closed"),
            ("[::1]", "no port"),
            ("[example.com]:443", "not an IPv6 address"),
            ("bad host:443", "neither a DNS name"),
            ("example.com:443/", "nothing after '/'"),
            ("example.com:443/bad name", "not a DNS name"),
            ("example.com:443/*.example.com", "not a DNS name"),
            ("example.com:443/10.0.0.1", "IP address"),
        ] {
            let err = Target::parse(text).unwrap_err().to_string();
            assert!(err.contains(&format!("'{text}'")), "{text}: {err}");
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
