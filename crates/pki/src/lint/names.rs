//! Name checks: the common name among the SANs, a SAN extension present at all, and the
//! host asked for covered by the leaf's SANs.
//!
//! Host matching is what browsers and rustls do: SANs only (the CN is ignored); a DNS
//! name matches case-insensitively, ignoring a trailing dot; a `*.` wildcard matches
//! exactly one whole leftmost label; an IP address matches only an IP SAN.

use super::codes;
use super::{Cert, Finding, Severity};
use crate::csr::general_names_to_sans;
use crate::names::San;
use std::net::IpAddr;

/// The DNS/IP SANs of a certificate; `None` when it has no (readable) SAN extension.
fn sans_of(cert: &Cert<'_>) -> Option<Vec<San>> {
    match cert.x509.subject_alternative_name() {
        Ok(Some(ext)) => Some(general_names_to_sans(&ext.value.general_names)),
        _ => None,
    }
}

fn show(sans: &[San]) -> String {
    if sans.is_empty() {
        return "none of DNS or IP type".into();
    }
    sans.iter().map(San::display).collect::<Vec<_>>().join(", ")
}

/// A name as typed (CN or `--host`) read as the SAN it would have to be.
fn as_san(name: &str) -> San {
    let trimmed = name.trim();
    let unbracketed = trimmed
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(trimmed);
    match unbracketed.parse::<IpAddr>() {
        Ok(ip) => San::Ip(ip),
        Err(_) => San::Dns(trimmed.trim_end_matches('.').to_ascii_lowercase()),
    }
}

/// The `cn-not-in-san` and `no-san` checks of an end-entity certificate.
pub(crate) fn check_sans(cert: &Cert<'_>) -> Vec<Finding> {
    let cns: Vec<String> = cert
        .x509
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_string))
        .collect();
    let Some(sans) = sans_of(cert) else {
        let cn_text = cns
            .first()
            .map(|cn| format!(" (its CN is '{cn}')"))
            .unwrap_or_default();
        let example = cns
            .first()
            .map(String::as_str)
            .unwrap_or("host.example.com");
        return vec![Finding::new(
            codes::NO_SAN,
            Severity::Error,
            Some(cert.index),
            format!(
                "{} has no subject alternative name extension{cn_text}; browsers and TLS libraries match host names against SANs only and refuse it",
                cert.label()
            ),
            format!(
                "Reissue it with every host name as a SAN: `certfleet cert issue --cn {example}` adds the CN as a SAN by itself; with openssl, add `-addext \"subjectAltName=DNS:{example}\"` to the request and make sure the CA copies the SANs."
            ),
        )];
    };
    cns.iter()
        .filter(|cn| !sans.contains(&as_san(cn)))
        .map(|cn| {
            Finding::new(
                codes::CN_NOT_IN_SAN,
                Severity::Error,
                Some(cert.index),
                format!(
                    "{}: its common name '{cn}' is not among its SANs ({}); browsers refuse it for '{cn}' with NET::ERR_CERT_COMMON_NAME_INVALID",
                    cert.label(),
                    show(&sans)
                ),
                format!(
                    "Reissue it with '{cn}' also as a SAN (`certfleet cert issue --cn {cn}` always adds it; with openssl, put it in subjectAltName as well as in the CN); if the CN is not a host name, make it the service's host name."
                ),
            )
        })
        .collect()
}

/// True when `san` covers the `wanted` name.
pub(crate) fn covers(san: &San, wanted: &San) -> bool {
    match (san, wanted) {
        (San::Ip(a), San::Ip(b)) => a == b,
        (San::Dns(pattern), San::Dns(host)) => {
            let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
            if pattern == *host {
                return true;
            }
            match (pattern.strip_prefix("*."), host.split_once('.')) {
                (Some(suffix), Some((label, rest))) => {
                    !label.is_empty() && !suffix.is_empty() && rest == suffix
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// The `host-not-covered` check of the leaf.
pub(crate) fn check_host(leaf: &Cert<'_>, host: &str) -> Option<Finding> {
    let wanted = as_san(host);
    let sans = sans_of(leaf).unwrap_or_default();
    if sans.iter().any(|san| covers(san, &wanted)) {
        return None;
    }
    let kind_hint = match wanted {
        San::Ip(ip) => format!(
            " An IP address is matched only against IP SANs (IP:{ip}), never a DNS SAN or the CN."
        ),
        San::Dns(_) => " A wildcard covers one label only: '*.example.com' covers 'a.example.com' but neither 'example.com' nor 'a.b.example.com'; the CN is not looked at.".into(),
    };
    let reissue = match &wanted {
        San::Ip(ip) => format!("--ip {ip}"),
        San::Dns(name) => format!("--san {name}"),
    };
    Some(Finding::new(
        codes::HOST_NOT_COVERED,
        Severity::Error,
        Some(leaf.index),
        format!(
            "{} does not cover '{host}': its SANs are {}",
            leaf.label(),
            if sans.is_empty() { "absent".into() } else { show(&sans) }
        ),
        format!(
            "Use a certificate whose SANs include '{host}' (reissue with `{reissue}`), or have clients connect with a name it covers.{kind_hint}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{codes_of, lint_certs, self_signed};
    use super::super::{lint, LintInput};
    use super::*;
    use rcgen::{CertificateParams, DnType, SanType};

    fn dns(name: &str) -> San {
        San::Dns(name.into())
    }

    #[test]
    fn wildcards_cover_exactly_one_label() {
        let wild = dns("*.example.test");
        assert!(covers(&wild, &as_san("a.example.test")));
        assert!(covers(&wild, &as_san("A.Example.Test.")));
        assert!(!covers(&wild, &as_san("example.test")));
        assert!(!covers(&wild, &as_san("a.b.example.test")));
        assert!(covers(
            &dns("web.example.test"),
            &as_san("WEB.example.test")
        ));
        assert!(!covers(&dns("web.example.test"), &as_san("10.0.0.1")));
        let ip = San::Ip("10.0.0.1".parse().unwrap());
        assert!(covers(&ip, &as_san("10.0.0.1")));
        assert!(covers(&San::Ip("::1".parse().unwrap()), &as_san("[::1]")));
        assert!(!covers(&dns("10.0.0.1"), &as_san("10.0.0.1")));
    }

    #[test]
    fn a_cn_missing_from_the_sans_is_an_error() {
        let mut params = CertificateParams::new(vec!["other.example.test".into()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "web.example.test");
        let findings = lint_certs(vec![self_signed(params)]);
        assert!(codes_of(&findings).contains(&(codes::CN_NOT_IN_SAN, Severity::Error)));
        let finding = findings
            .iter()
            .find(|f| f.code == codes::CN_NOT_IN_SAN)
            .unwrap();
        assert!(finding
            .message
            .contains("NET::ERR_CERT_COMMON_NAME_INVALID"));
    }

    #[test]
    fn an_ip_cn_matches_an_ip_san() {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.subject_alt_names = vec![SanType::IpAddress("10.1.2.3".parse().unwrap())];
        params
            .distinguished_name
            .push(DnType::CommonName, "10.1.2.3");
        let findings = lint_certs(vec![self_signed(params)]);
        assert!(!codes_of(&findings)
            .iter()
            .any(|(c, _)| *c == codes::CN_NOT_IN_SAN));
    }

    #[test]
    fn no_san_extension_is_an_error_and_the_host_is_not_covered() {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "web.example.test");
        let cert = self_signed(params);
        let mut input = LintInput::new(vec![cert]);
        input.host = Some("web.example.test".into());
        let codes = codes_of(&lint(&input));
        assert!(codes.contains(&(codes::NO_SAN, Severity::Error)));
        assert!(codes.contains(&(codes::HOST_NOT_COVERED, Severity::Error)));
        assert!(!codes.iter().any(|(c, _)| *c == codes::CN_NOT_IN_SAN));
    }

    #[test]
    fn the_host_is_checked_against_the_sans() {
        let params = CertificateParams::new(vec!["*.example.test".into()]).unwrap();
        let cert = self_signed(params);
        for (host, covered) in [("a.example.test", true), ("example.test", false)] {
            let mut input = LintInput::new(vec![cert.clone()]);
            input.host = Some(host.into());
            let hit = codes_of(&lint(&input)).contains(&(codes::HOST_NOT_COVERED, Severity::Error));
            assert_eq!(hit, !covered, "{host}");
        }
    }
}
