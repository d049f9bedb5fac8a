//! Subject alternative names: validating what the administrator typed and making sure the
//! common name is always among the SANs.

use crate::error::{PkiError, Result};
use std::net::IpAddr;

/// One subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum San {
    /// A DNS name (lower-cased), possibly a `*.` wildcard.
    Dns(String),
    /// An IP address.
    Ip(IpAddr),
}

impl San {
    /// The CLI and JSON spelling: `DNS:name` or `IP:addr`.
    pub fn display(&self) -> String {
        match self {
            San::Dns(name) => format!("DNS:{name}"),
            San::Ip(ip) => format!("IP:{ip}"),
        }
    }

    /// Reads a name given as the CN: an IP address when it parses as one, else a DNS name.
    pub fn from_cn(cn: &str) -> Result<San> {
        match cn.parse::<IpAddr>() {
            Ok(ip) => Ok(San::Ip(ip)),
            Err(_) => dns(cn).map_err(|_| {
                PkiError::Invalid(format!(
                    "--cn '{cn}' is neither a DNS name nor an IP address; a certificate's CN must also be one of its SANs, so it must be a host name"
                ))
            }),
        }
    }

    pub(crate) fn to_rcgen(&self) -> Result<rcgen::SanType> {
        Ok(match self {
            San::Dns(name) => rcgen::SanType::DnsName(
                rcgen::string::Ia5String::try_from(name.as_str())
                    .map_err(|_| PkiError::Invalid(format!("'{name}' is not an IA5 string")))?,
            ),
            San::Ip(ip) => rcgen::SanType::IpAddress(*ip),
        })
    }
}

/// Validates a DNS name (letters, digits, hyphens; labels of 1 to 63 characters; an
/// optional leading `*.` wildcard) and lower-cases it.
pub fn dns(name: &str) -> Result<San> {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    let body = lower.strip_prefix("*.").unwrap_or(&lower);
    let valid = !body.is_empty()
        && lower.len() <= 253
        && body.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !valid {
        return Err(PkiError::Invalid(format!(
            "'{name}' is not a valid DNS name (letters, digits and hyphens in dot-separated labels, optionally starting with '*.')"
        )));
    }
    Ok(San::Dns(lower))
}

/// The SAN set for a certificate: the CN first, then the DNS names and IPs given, without
/// duplicates.
pub fn san_set(cn: &str, dns_names: &[String], ips: &[IpAddr]) -> Result<Vec<San>> {
    let mut sans = vec![San::from_cn(cn)?];
    for name in dns_names {
        // A name given with --san that is really an IP address is taken as one.
        let san = match name.parse::<IpAddr>() {
            Ok(ip) => San::Ip(ip),
            Err(_) => dns(name)?,
        };
        if !sans.contains(&san) {
            sans.push(san);
        }
    }
    for ip in ips {
        let san = San::Ip(*ip);
        if !sans.contains(&san) {
            sans.push(san);
        }
    }
    Ok(sans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cn_is_always_first_and_not_repeated() {
        let sans = san_set(
            "Web.Example.test",
            &["web.example.test".into(), "alt.example.test".into()],
            &["10.0.0.1".parse().unwrap()],
        )
        .unwrap();
        assert_eq!(
            sans.iter().map(San::display).collect::<Vec<_>>(),
            [
                "DNS:web.example.test",
                "DNS:alt.example.test",
                "IP:10.0.0.1"
            ]
        );
    }

    #[test]
    fn rejects_names_that_are_not_host_names() {
        assert!(San::from_cn("My Server").is_err());
        assert!(dns("bad..name").is_err());
        assert!(dns("-x.example").is_err());
        assert!(dns("*.example.test").is_ok());
        assert_eq!(
            San::from_cn("10.1.2.3").unwrap(),
            San::Ip("10.1.2.3".parse().unwrap())
        );
    }
}
