//! Chain checks: which certificate is the leaf, the path above it, and whether the file
//! holds that path in order and without gaps.
//!
//! The rules, for a file as served by a TLS server (leaf first, then each certificate's
//! issuer; the root may be left out because clients bring their own):
//! - The leaf is the certificate matching the private key when one is given; else the
//!   first certificate that is not a CA and issues no other certificate in the file;
//!   else the first non-CA; else the first certificate that issues no other; else the
//!   first.
//! - The path follows issuer links up from the leaf ([`crate::chain::order_chain`]).
//! - `chain-out-of-order` (error): the leaf is not the first certificate, or the path's
//!   certificates do not appear in path order.
//! - When the path ends at a self-issued certificate, it is complete.
//! - When it ends at a certificate whose issuer is not in the file:
//!   - if the file holds CA certificates off the path, something between them and the
//!     path is missing (say leaf + root without the intermediate): `chain-incomplete`
//!     (error);
//!   - else if the path holds a CA certificate, the chain stops at an intermediate and
//!     only the root is left out: `chain-root-omitted` (notice);
//!   - else the file holds the leaf alone and nobody can tell whether its issuer is a
//!     root clients trust or an intermediate they lack: `chain-issuer-missing` (warning).
//! - Certificates off the path that were not named by `chain-incomplete` are
//!   `chain-unrelated-certificate` (warning; a notice when the file holds only CA
//!   certificates, as a CA bundle may hold several hierarchies), except cross-signed
//!   twins of a path certificate (same subject and key).

use super::codes;
use super::{Cert, Finding, Severity};
use crate::chain::{issued_by, order_chain};
use rustls_pki_types::CertificateDer;
use x509_parser::extensions::{GeneralName, ParsedExtension};

/// How the certificates of a file hang together. Numbers are slots in the driver's
/// list of parsed certificates, not positions in the file.
#[derive(Debug)]
pub(crate) struct Layout {
    /// The leaf's slot.
    pub leaf: usize,
    /// Whether the leaf is used as an end-entity certificate even if it is a CA.
    pub leaf_is_end_entity: bool,
    /// The leaf and its issuers found in the file, leaf first.
    pub path: Vec<usize>,
    /// Certificates off the path.
    pub strays: Vec<usize>,
}

/// The slot of the certificate in `certs` that issued `certs[slot]`, if any.
pub(crate) fn issuer_slot(certs: &[Cert<'_>], slot: usize) -> Option<usize> {
    let child = &certs[slot];
    if child.self_issued {
        return None;
    }
    (0..certs.len()).find(|&other| other != slot && issued_by(&child.x509, &certs[other].x509))
}

/// True when `certs[slot]` issued another (not self-issued) certificate of the file.
pub(crate) fn issues_other(certs: &[Cert<'_>], slot: usize) -> bool {
    (0..certs.len()).any(|other| other != slot && issuer_slot(certs, other) == Some(slot))
}

/// Chooses the leaf and builds its path.
pub(crate) fn layout(certs: &[Cert<'_>], key_slot: Option<usize>) -> Layout {
    let n = certs.len();
    let bottoms: Vec<usize> = (0..n).filter(|&s| !issues_other(certs, s)).collect();
    let leaf = key_slot
        .or_else(|| bottoms.iter().copied().find(|&s| !certs[s].is_ca))
        .or_else(|| (0..n).find(|&s| !certs[s].is_ca))
        .or_else(|| bottoms.first().copied())
        .unwrap_or(0);

    let owned = |slot: usize| CertificateDer::from(certs[slot].x509.as_raw().to_vec());
    let pool: Vec<CertificateDer<'static>> = (0..n).map(owned).collect();
    let (above, rest) = order_chain(&pool[leaf], &pool);
    let slot_of = |der: &CertificateDer<'_>| pool.iter().position(|p| p == der);
    let mut path = vec![leaf];
    path.extend(above.iter().filter_map(slot_of));
    let strays = rest.iter().filter_map(slot_of).collect();
    Layout {
        leaf,
        leaf_is_end_entity: used_as_end_entity(certs, leaf),
        path,
        strays,
    }
}

/// A CA certificate still counts as the server's own certificate when it carries SANs or
/// a TLS extended key usage, or when it cannot sign certificates (no keyCertSign) and
/// signed none in the file — the self-signed "CA:TRUE" certificate that
/// `openssl req -x509` makes by default.
fn used_as_end_entity(certs: &[Cert<'_>], slot: usize) -> bool {
    let cert = &certs[slot];
    if !cert.is_ca {
        return true;
    }
    let has_san = matches!(cert.x509.subject_alternative_name(), Ok(Some(_)));
    let tls_eku = matches!(
        cert.x509.extended_key_usage(),
        Ok(Some(eku)) if eku.value.server_auth || eku.value.client_auth
    );
    let cert_sign = matches!(cert.x509.key_usage(), Ok(Some(ku)) if ku.value.key_cert_sign());
    has_san || tls_eku || (!cert_sign && !issues_other(certs, slot))
}

/// The finding for a certificate repeated in the file.
pub(crate) fn duplicate(index: usize, first: usize) -> Finding {
    Finding::new(
        codes::DUPLICATE_CERTIFICATE,
        Severity::Warning,
        Some(index),
        format!(
            "certificate {} is a second copy of certificate {}",
            index + 1,
            first + 1
        ),
        "Remove the repeated copy: a server sends every certificate in the file, and some clients refuse a chain with repeats.",
    )
}

/// Order, completeness and unrelated certificates.
pub(crate) fn check(certs: &[Cert<'_>], layout: &Layout) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(order(certs, layout));
    let mut named_by_gap: Vec<usize> = Vec::new();
    let top = &certs[*layout.path.last().unwrap_or(&layout.leaf)];
    if !top.self_issued {
        let ca_strays: Vec<usize> = layout
            .strays
            .iter()
            .copied()
            .filter(|&s| certs[s].is_ca && !twin_of_path(certs, layout, s))
            .collect();
        if !ca_strays.is_empty() {
            findings.push(incomplete(certs, top, &ca_strays));
            named_by_gap = ca_strays;
        } else if layout.path.len() > 1 || !certs[layout.leaf].end_entity {
            findings.push(Finding::new(
                codes::CHAIN_ROOT_OMITTED,
                Severity::Notice,
                Some(top.index),
                format!(
                    "the chain ends at {}, whose issuer '{}' is not in the file",
                    top.label(),
                    top.x509.issuer()
                ),
                format!(
                    "Nothing to do for a chain a server sends, as long as clients trust '{}'; add that root certificate at the end when the file is used as a trust bundle.",
                    top.x509.issuer()
                ),
            ));
        } else {
            findings.push(Finding::new(
                codes::CHAIN_ISSUER_MISSING,
                Severity::Warning,
                Some(top.index),
                format!(
                    "the file holds {} without the certificate of its issuer '{}'",
                    top.label(),
                    top.x509.issuer()
                ),
                format!(
                    "If '{}' is an intermediate CA, append its certificate after the leaf{} (clients that lack it cannot build a chain); if it is a root that every client trusts, nothing is missing.",
                    top.x509.issuer(),
                    ca_issuers_hint(top)
                ),
            ));
        }
    }
    let only_cas = certs.iter().all(|c| c.is_ca && !c.end_entity);
    for &stray in &layout.strays {
        if named_by_gap.contains(&stray) || twin_of_path(certs, layout, stray) {
            continue;
        }
        let cert = &certs[stray];
        findings.push(Finding::new(
            codes::CHAIN_UNRELATED_CERTIFICATE,
            if only_cas { Severity::Notice } else { Severity::Warning },
            Some(cert.index),
            format!(
                "{} is not part of the chain of {}",
                cert.label(),
                certs[layout.leaf].label()
            ),
            "Remove it from this file (keep each service's chain on its own), unless it was meant to be an issuer on the path, in which case the wrong certificate was copied.",
        ));
    }
    findings
}

fn order(certs: &[Cert<'_>], layout: &Layout) -> Option<Finding> {
    let leaf_first = layout.leaf == 0;
    let ascending = layout.path.windows(2).all(|w| w[0] < w[1]);
    if leaf_first && ascending {
        return None;
    }
    let name = |slot: &usize| format!("{} {}", certs[*slot].index + 1, certs[*slot].subject());
    let mut in_file = layout.path.clone();
    in_file.sort_unstable();
    let found: Vec<String> = in_file.iter().map(name).collect();
    let expected: Vec<String> = layout.path.iter().map(|s| certs[*s].subject()).collect();
    let first_wrong = if leaf_first {
        layout
            .path
            .iter()
            .zip(in_file.iter())
            .find(|(want, got)| want != got)
            .map(|(_, got)| *got)
            .unwrap_or(layout.leaf)
    } else {
        0
    };
    Some(Finding::new(
        codes::CHAIN_OUT_OF_ORDER,
        Severity::Error,
        Some(certs[first_wrong].index),
        format!(
            "the certificates are not in chain order: the file has [{}] but a chain goes leaf first, then each certificate's issuer: [{}]{}",
            found.join("; "),
            expected.join("; "),
            if leaf_first { "" } else { "; a server sends the first certificate as its own" }
        ),
        "Rewrite the file leaf first, then its issuer, then that issuer's issuer, root last or left out (e.g. `cat leaf.crt intermediate.crt root.crt > fullchain.pem`); `certfleet` writes merged files in that order.",
    ))
}

fn incomplete(certs: &[Cert<'_>], top: &Cert<'_>, ca_strays: &[usize]) -> Finding {
    let strays: Vec<String> = ca_strays.iter().map(|s| certs[*s].label()).collect();
    Finding::new(
        codes::CHAIN_INCOMPLETE,
        Severity::Error,
        Some(top.index),
        format!(
            "the chain is incomplete: the issuer of {}, '{}', is not in the file, so it does not link to {}",
            top.label(),
            top.x509.issuer(),
            strays.join(", ")
        ),
        format!(
            "Add the certificate of '{}' (the intermediate CA) right after {}{}; without it clients cannot build a path to the root.",
            top.x509.issuer(),
            top.label(),
            ca_issuers_hint(top)
        ),
    )
}

/// A stray with the same subject and key as a path certificate: a cross-signed copy.
fn twin_of_path(certs: &[Cert<'_>], layout: &Layout, stray: usize) -> bool {
    let s = &certs[stray].x509;
    layout.path.iter().any(|&p| {
        let p = &certs[p].x509;
        p.subject().as_raw() == s.subject().as_raw() && p.public_key().raw == s.public_key().raw
    })
}

/// ` — the CA publishes it at URL` when the certificate names a CA Issuers location.
fn ca_issuers_hint(cert: &Cert<'_>) -> String {
    const CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";
    let url = cert
        .x509
        .extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => aia.accessdescs.iter().find_map(|desc| {
                match (
                    &desc.access_location,
                    desc.access_method.to_id_string() == CA_ISSUERS,
                ) {
                    (GeneralName::URI(uri), true) => Some(uri.to_string()),
                    _ => None,
                }
            }),
            _ => None,
        });
    url.map(|u| format!(" (the CA publishes it at {u})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{certfleet_parts, codes_of, lint_certs};
    use super::*;

    #[test]
    fn out_of_order_chains_are_errors() {
        let (leaf, inter, root) = certfleet_parts();
        let findings = lint_certs(vec![leaf.clone(), root.clone(), inter.clone()]);
        assert!(codes_of(&findings).contains(&(codes::CHAIN_OUT_OF_ORDER, Severity::Error)));
        let finding = findings
            .iter()
            .find(|f| f.code == codes::CHAIN_OUT_OF_ORDER)
            .unwrap();
        assert_eq!(finding.certificate, Some(1), "{finding:?}");
        let findings = lint_certs(vec![inter.clone(), leaf.clone(), root.clone()]);
        assert!(codes_of(&findings).contains(&(codes::CHAIN_OUT_OF_ORDER, Severity::Error)));
        let findings = lint_certs(vec![leaf, inter, root]);
        assert!(!codes_of(&findings)
            .iter()
            .any(|(c, _)| c.starts_with("chain-")));
    }

    #[test]
    fn a_missing_intermediate_between_leaf_and_root_is_an_error() {
        let (leaf, _, root) = certfleet_parts();
        let findings = lint_certs(vec![leaf, root]);
        let codes = codes_of(&findings);
        assert!(
            codes.contains(&(codes::CHAIN_INCOMPLETE, Severity::Error)),
            "{findings:#?}"
        );
        assert!(!codes
            .iter()
            .any(|(c, _)| *c == codes::CHAIN_UNRELATED_CERTIFICATE));
    }

    #[test]
    fn an_omitted_root_is_a_notice_and_a_lone_leaf_a_warning() {
        let (leaf, inter, root) = certfleet_parts();
        let findings = lint_certs(vec![leaf.clone(), inter.clone()]);
        assert_eq!(
            codes_of(&findings),
            [(codes::CHAIN_ROOT_OMITTED, Severity::Notice)]
        );
        let findings = lint_certs(vec![leaf]);
        assert_eq!(
            codes_of(&findings),
            [(codes::CHAIN_ISSUER_MISSING, Severity::Warning)]
        );
        let findings = lint_certs(vec![inter.clone(), root.clone()]);
        assert_eq!(codes_of(&findings), []);
        let findings = lint_certs(vec![inter]);
        assert_eq!(
            codes_of(&findings),
            [(codes::CHAIN_ROOT_OMITTED, Severity::Notice)]
        );
        let findings = lint_certs(vec![root.clone(), root]);
        assert_eq!(
            codes_of(&findings),
            [(codes::DUPLICATE_CERTIFICATE, Severity::Warning)]
        );
    }

    #[test]
    fn a_certificate_of_another_hierarchy_is_unrelated() {
        let (leaf, inter, root) = certfleet_parts();
        let (other_leaf, _, other_root) = certfleet_parts();
        let findings = lint_certs(vec![leaf, inter, root, other_leaf]);
        assert_eq!(
            codes_of(&findings),
            [(codes::CHAIN_UNRELATED_CERTIFICATE, Severity::Warning)]
        );
        let (_, inter, root) = certfleet_parts();
        let findings = lint_certs(vec![inter, root, other_root]);
        assert_eq!(
            codes_of(&findings),
            [(codes::CHAIN_UNRELATED_CERTIFICATE, Severity::Notice)]
        );
    }
}
