//! Baseline Requirements for the names in a subscriber certificate: the common name, if
//! any, is not a SAN written differently (7.1.4.3: a DNS name character for character,
//! an IP address in its RFC 3986 / RFC 5952 text; see [`check_common_name`]), and every
//! DNS SAN is a
//! host name in preferred syntax (no underscore, 7.1.4.2) whose wildcard, if any, does
//! not stand directly under a registry-controlled public suffix (3.2.2.6), by the ICANN
//! section of the Public Suffix List (`psl`); a name that no rule of the list covers
//! counts as its own top-level domain. A wildcard under a suffix of the list's private
//! section (`*.s3.amazonaws.com`) is allowed: 3.2.2.6 lets a CA issue it to whoever
//! controls that whole namespace, and such certificates are in use.

use super::{violation, who};
use crate::verify::VerifyFailure;
use std::net::IpAddr;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

/// Applies the name rules to the leaf.
pub(super) fn check(leaf: &X509Certificate<'_>) -> Result<(), VerifyFailure> {
    let who = who(leaf, "the certificate");
    let general_names = match leaf.subject_alternative_name() {
        Ok(Some(san)) => san.value.general_names.clone(),
        _ => Vec::new(),
    };
    let dns: Vec<&str> = general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(*dns),
            _ => None,
        })
        .collect();
    check_common_name(leaf, &dns, &who)?;
    for name in dns {
        check_dns_name(name, &who)?;
    }
    Ok(())
}

/// BR 7.1.4.3 wants the common name, when present, to be one of the SANs copied
/// character for character. Browsers ignore the common name when there are SANs, and
/// test suites (BetterTLS among them) use a common name that names another host to check
/// exactly that, so a common name naming another host is left to `lint`. Refused here is
/// a common name that can only be a SAN written differently, which a name-matching
/// client might take for what it is not: one that equals a DNS SAN except for letter
/// case, an IP address not in its RFC 3986 (dotted decimal) or RFC 5952 text, and one with
/// characters outside ASCII (a dNSName holds A-labels only).
fn check_common_name(
    leaf: &X509Certificate<'_>,
    dns: &[&str],
    who: &str,
) -> Result<(), VerifyFailure> {
    const SECTION: &str = "7.1.4.3";
    let common_names: Vec<_> = leaf.subject().iter_common_name().collect();
    let [common_name] = common_names.as_slice() else {
        if common_names.is_empty() {
            return Ok(());
        }
        return Err(violation(
            who,
            "has more than one common name in its subject",
            SECTION,
        ));
    };
    let Ok(text) = common_name.as_str() else {
        return Err(violation(
            who,
            "has a common name that is not a readable string",
            SECTION,
        ));
    };
    if dns.contains(&text) {
        return Ok(());
    }
    let problem = if !text.is_ascii() {
        Some("has characters outside ASCII, so it is no copy of a DNS name (A-labels only)")
    } else if dns.iter().any(|san| san.eq_ignore_ascii_case(text)) {
        Some("differs from its DNS name only in letter case")
    } else if looks_like_ip(text)
        && text
            .parse::<IpAddr>()
            .map(|ip| ip.to_string())
            .ok()
            .as_deref()
            != Some(text)
    {
        Some("is an IP address not written in its standard text (dotted decimal for IPv4, RFC 5952 for IPv6)")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(violation(
            who,
            &format!("has the common name '{text}', which {problem}"),
            SECTION,
        )),
        None => Ok(()),
    }
}

/// Whether `text` is meant as an IP address: four numbers (decimal, octal or hex) with
/// dots, one hex number (`0xC0A80101`), or anything an IPv6 parser reads.
fn looks_like_ip(text: &str) -> bool {
    let number = |part: &str| {
        let lower = part.to_ascii_lowercase();
        match lower.strip_prefix("0x") {
            Some(hex) => !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            None => !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()),
        }
    };
    let parts: Vec<&str> = text.split('.').collect();
    let dotted = parts.len() == 4 && parts.iter().all(|p| number(p));
    let hex = parts.len() == 1 && text.to_ascii_lowercase().starts_with("0x") && number(text);
    dotted || hex || text.parse::<std::net::Ipv6Addr>().is_ok()
}

/// A DNS SAN: preferred name syntax (letters, digits and inner hyphens, labels of 1 to
/// 63 characters), a wildcard only as the whole first label, and that wildcard not
/// directly under a public suffix.
fn check_dns_name(name: &str, who: &str) -> Result<(), VerifyFailure> {
    let mut labels = name.split('.');
    let wildcard = name.starts_with("*.");
    if wildcard {
        labels.next();
    }
    let well_formed = name.len() <= 253
        && labels.all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !well_formed {
        return Err(violation(
            who,
            &format!(
                "has the DNS name '{name}', which is not a host name in preferred syntax (letters, digits and hyphens; a wildcard only as the whole first label)"
            ),
            "7.1.4.2",
        ));
    }
    if wildcard {
        let base = name[2..].to_ascii_lowercase();
        let registry_controlled = psl::suffix(base.as_bytes()).is_some_and(|suffix| {
            suffix.as_bytes() == base.as_bytes() && suffix.typ() != Some(psl::Type::Private)
        });
        if registry_controlled {
            return Err(violation(
                who,
                &format!(
                    "has the wildcard DNS name '{name}', which covers every name under the public suffix '{base}'"
                ),
                "3.2.2.6",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses_are_told_from_names() {
        for text in [
            "192.168.001.001",
            "0xC0A80101",
            "2001:DB8::1",
            "1.1.1.1",
            "::1",
        ] {
            assert!(looks_like_ip(text), "{text}");
        }
        for text in ["EE", "bad.example.com", "1.2.3", "0x", "example.com"] {
            assert!(!looks_like_ip(text), "{text}");
        }
    }

    #[test]
    fn wildcards_under_public_suffixes_and_bad_syntax_are_refused() {
        for name in [
            "*.com",
            "*.co.uk",
            "*.test",
            "foo_bar.example.com",
            "-a.example.com",
            "a..example.com",
            "a.*.example.com",
        ] {
            assert!(check_dns_name(name, "x").is_err(), "{name}");
        }
        for name in [
            "*.example.com",
            "*.example.co.uk",
            "*.s3.amazonaws.com",
            "example.com",
            "xn--bcher-kva.example",
            "*.web.example.test",
        ] {
            assert!(check_dns_name(name, "x").is_ok(), "{name}");
        }
    }
}
