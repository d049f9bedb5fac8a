//! Finding which certificate a webpki error is about, and saying so: webpki reports what
//! went wrong but not where, so these helpers look at the certificates again (with
//! x509-parser) to name the one concerned and the data that matters (names, usages).

use super::describe::{self, name};
use super::request::VerifyRequest;
use super::{FailureCode, VerifyFailure};
use crate::chain::{is_self_issued, order_chain};
use rustls_pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::extensions::ExtendedKeyUsage;

/// The certificates webpki may have looked at, leaf first: the leaf, the intermediates
/// in issuer order from the leaf, then the other intermediates.
pub(crate) fn candidates(req: &VerifyRequest<'_>) -> Vec<CertificateDer<'static>> {
    let (ordered, rest) = order_chain(req.leaf, req.intermediates);
    std::iter::once(req.leaf.clone())
        .chain(ordered)
        .chain(rest)
        .collect()
}

/// The first certificate among `certs` for which `test` holds, with its role in words
/// ("the certificate" for the leaf, "the intermediate CA certificate" otherwise).
pub(crate) fn find(
    certs: &[CertificateDer<'static>],
    test: impl Fn(&X509Certificate<'_>) -> bool,
) -> Option<String> {
    certs.iter().enumerate().find_map(|(index, der)| {
        let cert = describe::parse(der)?;
        test(&cert).then(|| {
            let role = if index == 0 {
                "the certificate"
            } else {
                "the intermediate CA certificate"
            };
            format!("{role} {}", name(&cert))
        })
    })
}

/// The name of the first certificate among `certs` for which `test` holds.
pub(crate) fn find_name(
    certs: &[CertificateDer<'static>],
    test: impl Fn(&X509Certificate<'_>) -> bool,
) -> Option<String> {
    certs.iter().find_map(|der| {
        let cert = describe::parse(der)?;
        test(&cert).then(|| name(&cert))
    })
}

/// No path to a trust anchor: say where the chain that can be built ends.
pub(crate) fn unknown_issuer(req: &VerifyRequest<'_>) -> VerifyFailure {
    let (ordered, _) = order_chain(req.leaf, req.intermediates);
    let top_der = ordered.last().unwrap_or(req.leaf);
    let Some(top) = describe::parse(top_der) else {
        return VerifyFailure::new(
            FailureCode::UnknownIssuer,
            "the chain does not lead to any certificate in the trust store",
        );
    };
    let issuer = describe::shorten(&top.issuer().to_string());
    let reason = if issuer.is_empty() {
        format!(
            "the chain does not lead to any certificate in the trust store: {} names an empty issuer, so no CA can be found for it",
            name(&top)
        )
    } else if is_self_issued(&top) && ordered.is_empty() {
        format!(
            "the certificate {} is self-signed and is not in the trust store",
            name(&top)
        )
    } else if is_self_issued(&top) {
        format!(
            "the chain does not lead to any certificate in the trust store: it ends at the root {}, which is not trusted",
            name(&top)
        )
    } else {
        format!(
            "the chain does not lead to any certificate in the trust store (issuer: {issuer}): {} was issued by '{issuer}', which is neither in the trust store nor among the intermediates given",
            name(&top)
        )
    };
    VerifyFailure::new(FailureCode::UnknownIssuer, reason)
}

/// A signature that does not verify: find the link that breaks.
pub(crate) fn bad_signature(req: &VerifyRequest<'_>) -> VerifyFailure {
    let (ordered, _) = order_chain(req.leaf, req.intermediates);
    let path: Vec<&CertificateDer<'static>> = std::iter::once(req.leaf).chain(&ordered).collect();
    for pair in path.windows(2) {
        if let (Some(child), Some(parent)) = (describe::parse(pair[0]), describe::parse(pair[1])) {
            if let Some(weak) = weak_key(&parent) {
                return weak;
            }
            if signature_fails(&child, &parent) {
                return VerifyFailure::new(
                    FailureCode::BadSignature,
                    format!(
                        "the signature on {} does not verify with the key of its issuer {}: the certificate was altered, or it was signed by a different key than that CA's",
                        name(&child),
                        name(&parent)
                    ),
                );
            }
        }
    }
    if let Some(top) = path.last().and_then(|der| describe::parse(der)) {
        let issuers: Vec<_> = req
            .trust_anchors
            .iter()
            .filter_map(|der| describe::parse(der))
            .filter(|anchor| anchor.subject().as_raw() == top.issuer().as_raw())
            .collect();
        if let Some(weak) = issuers.iter().find_map(weak_key) {
            return weak;
        }
        let same_name = req.trust_anchors.iter().find_map(|der| {
            let anchor = describe::parse(der)?;
            (anchor.subject().as_raw() == top.issuer().as_raw() && signature_fails(&top, &anchor))
                .then(|| name(&anchor))
        });
        if let Some(anchor) = same_name {
            return VerifyFailure::new(
                FailureCode::BadSignature,
                format!(
                    "the signature on {} does not verify with the key of the trusted {anchor}: the trust store holds a CA of the same name but with a different key (another CA, or one that was re-keyed)",
                    name(&top)
                ),
            );
        }
    }
    VerifyFailure::new(
        FailureCode::BadSignature,
        "a signature in the chain does not verify: a certificate was altered, or it was signed by a different key than the CA certificate of the same name",
    )
}

/// An issuer whose RSA key is too small for its signatures to be accepted.
fn weak_key(issuer: &X509Certificate<'_>) -> Option<VerifyFailure> {
    match describe::key(issuer) {
        Some((kind, bits)) if kind == "RSA" && bits < 2048 => Some(VerifyFailure::new(
            FailureCode::UnsupportedAlgorithm,
            format!(
                "the CA certificate {} has an RSA key of {bits} bits; signatures by RSA keys shorter than 2048 bits are refused",
                name(issuer)
            ),
        )),
        _ => None,
    }
}

fn signature_fails(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    matches!(
        child.verify_signature(Some(parent.public_key())),
        Err(X509Error::SignatureVerificationError)
    )
}

pub(crate) use crate::inspect::eku_names;

/// The leaf (or a CA above it) is not for the purpose asked for.
pub(crate) fn wrong_purpose(req: &VerifyRequest<'_>, present: &[String]) -> VerifyFailure {
    let purpose = req.purpose;
    let allows = |eku: &ExtendedKeyUsage<'_>| match purpose {
        super::Purpose::Server => eku.server_auth,
        super::Purpose::Client => eku.client_auth,
    };
    let certs = candidates(req);
    for (index, der) in certs.iter().enumerate() {
        let Some(cert) = describe::parse(der) else {
            continue;
        };
        let Ok(Some(eku)) = cert.extended_key_usage() else {
            continue;
        };
        if allows(eku.value) {
            continue;
        }
        let usages = describe::list(&eku_names(eku.value));
        let reason = if index == 0 {
            format!(
                "the certificate is not for {} (its extended key usage is {usages})",
                purpose.describe()
            )
        } else {
            format!(
                "the intermediate CA certificate {} limits the certificates below it to {usages}, so it cannot vouch for {}",
                name(&cert),
                purpose.describe()
            )
        };
        return VerifyFailure::new(FailureCode::WrongPurpose, reason);
    }
    let usages = if present.is_empty() {
        "none".to_string()
    } else {
        describe::list(present)
    };
    VerifyFailure::new(
        FailureCode::WrongPurpose,
        format!(
            "the certificate is not for {} (its extended key usage is {usages})",
            purpose.describe()
        ),
    )
}

/// A name of the leaf falls outside what a CA above it may certify.
pub(crate) fn name_constraints(req: &VerifyRequest<'_>) -> VerifyFailure {
    let leaf_names = describe::parse(req.leaf)
        .map(|leaf| describe::sans(&leaf))
        .unwrap_or_default();
    let constraining = candidates(req)
        .iter()
        .chain(req.trust_anchors)
        .skip(1)
        .find_map(|der| {
            let cert = describe::parse(der)?;
            let nc = cert.name_constraints().ok()??;
            let show = |trees: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
                trees.as_ref().map_or_else(
                    || "none".to_string(),
                    |t| {
                        let names: Vec<String> =
                            t.iter().map(|s| describe::general_name(&s.base)).collect();
                        describe::list(&names)
                    },
                )
            };
            Some(format!(
                "{} (permitted: {}; excluded: {})",
                name(&cert),
                show(&nc.value.permitted_subtrees),
                show(&nc.value.excluded_subtrees)
            ))
        });
    let names = if leaf_names.is_empty() {
        "its subject".to_string()
    } else {
        describe::list(&leaf_names)
    };
    let reason = match constraining {
        Some(ca) => format!(
            "a name in the chain ({names}) is outside the names that CA {ca} may certify (name constraints)"
        ),
        None => format!(
            "a name in the chain ({names}) is outside the names a CA above it may certify (name constraints)"
        ),
    };
    VerifyFailure::new(FailureCode::NameConstraints, reason)
}

/// The leaf is not valid for the host asked for.
pub(crate) fn name_mismatch(req: &VerifyRequest<'_>, host: &str) -> VerifyFailure {
    let Some(leaf) = describe::parse(req.leaf) else {
        return VerifyFailure::new(
            FailureCode::NameMismatch,
            format!("the certificate is not valid for {host}"),
        );
    };
    let sans = describe::sans(&leaf);
    let reason = if sans.is_empty() {
        format!(
            "the certificate has no subject alternative names, so it is valid for no host and not for {host} (its subject {} is not used for matching, as browsers do not use it either)",
            name(&leaf)
        )
    } else {
        format!(
            "the certificate is valid for {}, not for {host}",
            sans.join(", ")
        )
    };
    VerifyFailure::new(FailureCode::NameMismatch, reason)
}
