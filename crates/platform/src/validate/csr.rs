//! A service's certificate request: `csr` (a CSR made where the key lives, such as an
//! appliance's web administration), `csr_names` (exactly the names the CSR asks for) and
//! `csr_san = false` (a CSR without names, the CA chooses them). Each error names the
//! model file, the line and the key.

use crate::error::Result;
use crate::model::{Locator, RawService};
use crate::spec::{CsrFile, IssuerKind, Output, Requested};
use certfleet_pki::names::San;
use std::net::IpAddr;

/// The CN a service gets from its `csr_names` when it sets no `cn`: the first entry that
/// is a DNS name.
pub(super) fn default_cn(s: &RawService) -> Option<String> {
    s.csr_names.as_ref().and_then(|names| {
        names
            .get_ref()
            .iter()
            .map(|n| n.get_ref().trim().to_ascii_lowercase())
            .find(|n| n.parse::<IpAddr>().is_err())
    })
}

/// What the service's CSR asks for: its `csr_names`, no names (`csr_san = false`), or
/// every name in `sans` (the default, unchanged).
pub(super) fn requested(
    loc: &Locator,
    s: &RawService,
    issuer: IssuerKind,
    cn: &str,
    sans: &[San],
) -> Result<Requested> {
    let has_request = issuer == IssuerKind::External || s.csr.is_some();
    if !has_request {
        let stray = s
            .csr_names
            .as_ref()
            .map(|n| (n.span().start, "service.csr_names"))
            .or_else(|| {
                s.csr_san
                    .as_ref()
                    .map(|b| (b.span().start, "service.csr_san"))
            });
        if let Some((offset, key)) = stray {
            return Err(loc.error(
                offset,
                key,
                format!(
                    "only a service with ca = \"external\" or a csr file has a certificate request; this one's issuer is {}",
                    issuer.name()
                ),
            ));
        }
        return Ok(Requested::Names(sans.to_vec()));
    }
    if let Some(flag) = &s.csr_san {
        if !*flag.get_ref() {
            if let Some(names) = &s.csr_names {
                return Err(loc.at(
                    names,
                    "service.csr_names",
                    "csr_san = false asks for a CSR without names, so csr_names has nothing to say; keep one of the two",
                ));
            }
            return Ok(Requested::NoSan);
        }
    }
    let Some(names) = &s.csr_names else {
        return Ok(Requested::Names(sans.to_vec()));
    };
    if names.get_ref().is_empty() {
        return Err(loc.at(
            names,
            "service.csr_names",
            "lists no name; list the names the CA is to sign, or set csr_san = false for a CSR without names",
        ));
    }
    let mut asked: Vec<San> = Vec::new();
    for text in names.get_ref() {
        let written = text.get_ref().trim();
        let san = match written.parse::<IpAddr>() {
            Ok(ip) => San::Ip(ip),
            Err(_) => {
                certfleet_pki::names::dns(written)
                    .map_err(|e| loc.at(text, "service.csr_names", e.to_string()))?;
                San::Dns(written.to_ascii_lowercase())
            }
        };
        if !sans.contains(&san) {
            return Err(loc.at(
                text,
                "service.csr_names",
                format!(
                    "{} is not one of the service's names ({}); add it to san or ips first",
                    san.display(),
                    sans.iter().map(San::display).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if !asked.contains(&san) {
            asked.push(san);
        }
    }
    let cn_san = San::from_cn(cn).map_err(|e| loc.at(names, "service.csr_names", e.to_string()))?;
    if !asked.contains(&cn_san) {
        return Err(loc.at(
            names,
            "service.csr_names",
            format!(
                "the CN '{cn}' must be among csr_names: browsers refuse a certificate whose CN is not among its SANs"
            ),
        ));
    }
    // CN first, as in every SAN set.
    asked.retain(|san| san != &cn_san);
    asked.insert(0, cn_san);
    Ok(Requested::Names(asked))
}

/// The service's `csr` file, checked against its issuer, its `key` and its outputs.
pub(super) fn csr_file(
    loc: &Locator,
    s: &RawService,
    issuer: IssuerKind,
    outputs: &[Output],
) -> Result<Option<CsrFile>> {
    let Some(text) = &s.csr else {
        return Ok(None);
    };
    let written = text.get_ref().trim();
    if written.is_empty() {
        return Err(loc.at(text, "service.csr", "must not be empty"));
    }
    if !matches!(issuer, IssuerKind::Internal | IssuerKind::External) {
        return Err(loc.at(
            text,
            "service.csr",
            format!(
                "a CSR is signed by the internal CA or passed on to an external CA; this service's issuer is {}",
                issuer.name()
            ),
        ));
    }
    if let Some(key) = &s.key {
        return Err(loc.at(
            key,
            "service.key",
            format!(
                "the key is made with the CSR {written}, where it stays; leave key out (the CSR's key is checked against the service's kind)"
            ),
        ));
    }
    if let Some(output) = outputs.iter().find(|o| o.format.needs_key()) {
        return Err(crate::error::PlatformError::Model {
            file: loc.file().to_owned(),
            line: output.line,
            key: "service.output.format".into(),
            message: format!(
                "a {} output holds the service's private key, which certfleet never has: the key stays where the CSR {written} was made. Use a certificate-only format (der, pem-chain, pem-trust, pkcs12-trust, jks-trust)",
                output.format.name()
            ),
        });
    }
    Ok(Some(CsrFile {
        written: written.to_owned(),
        line: loc.line(text.span().start),
    }))
}

#[cfg(test)]
#[path = "csr_tests.rs"]
mod tests;
