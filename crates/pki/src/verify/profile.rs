//! RFC 5280 rules that webpki leaves out, checked on every candidate path webpki has
//! already accepted (so path building can still try another path when one fails).
//!
//! webpki verifies signatures, validity, basic constraints, name constraints and
//! extended key usage, but treats the trust anchor as a bare name and key, and does not
//! judge extensions it does not need. certfleet adds the rules that decide whether a
//! certificate may take its place in a path at all:
//! - the trust anchor must be valid at the time checked, be a CA (a v3 anchor must carry
//!   Basic Constraints CA:TRUE), allow keyCertSign when it has a key usage, and carry no
//!   critical extension that cannot be processed (RFC 5280 4.2);
//! - every CA must have a non-empty subject (4.1.2.6), keyCertSign in its key usage
//!   (4.2.1.3, 6.1.4 n), and no empty name constraints (4.2.1.10);
//! - the leaf must not claim keyCertSign or name constraints without being a CA
//!   (4.2.1.3, 4.2.1.10), needs a critical subject alternative name when its subject is
//!   empty (4.2.1.6), and must have a key TLS clients accept (webpki only checks the
//!   leaf's key when it verifies a handshake signature);
//! - no certificate may carry an extension that does not decode;
//! - a CRL's issuer must allow cRLSign when it has a key usage (4.2.1.3);
//! - the caller's limit on the number of intermediates.
//!
//! A certificate that is directly trusted (the leaf itself is in the trust store) is not
//! judged as a CA. Rules that only concern how CAs should issue are not checked here:
//! key identifiers, serial length and the CA/Browser Forum rules belong to the `webpki`
//! profile (`cabf/`) and to `lint`; the criticality of Basic Constraints is judged by
//! neither (path validation, RFC 5280 6.1.4, reads only its values; three roots of the
//! Mozilla store mark it non-critical, and OpenSSL and Java accept that).

use super::describe::{self, name};
use super::request::VerifyRequest;
use super::{FailureCode, VerifyFailure};
use crate::chain::is_self_issued;
use rustls_pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;

/// One path webpki found: the leaf, the intermediates from the leaf up, and the anchor.
pub(crate) struct Candidate<'c> {
    /// The leaf's DER.
    pub leaf: &'c [u8],
    /// The intermediates of the path, the leaf's issuer first.
    pub intermediates: Vec<CertificateDer<'c>>,
    /// The trust anchor's DER.
    pub anchor: &'c [u8],
}

/// Applies the rules of this module to one candidate path.
pub(crate) fn check(
    req: &VerifyRequest<'_>,
    path: &Candidate<'_>,
    crl_issuers: &[Vec<u8>],
) -> Result<(), VerifyFailure> {
    let intermediates: Vec<X509Certificate<'_>> = path
        .intermediates
        .iter()
        .filter_map(|der| describe::parse(der))
        .collect();
    if let Some(max) = req.max_intermediates {
        let counted = intermediates.iter().filter(|c| !is_self_issued(c)).count();
        if counted > max {
            return Err(VerifyFailure::new(
                FailureCode::PathTooLong,
                format!("the chain needs {counted} intermediate CAs, more than the {max} allowed"),
            ));
        }
    }
    let directly_trusted = path.anchor == path.leaf;
    let anchor = describe::parse(path.anchor);
    if let (Some(anchor), false) = (&anchor, directly_trusted) {
        check_anchor(req, anchor)?;
        check_ca(anchor, "the trusted root")?;
    }
    for ca in &intermediates {
        check_ca(ca, "the intermediate CA certificate")?;
    }
    if let Some(leaf) = describe::parse(path.leaf) {
        check_leaf(req, &leaf)?;
    }
    if !crl_issuers.is_empty() {
        for ca in intermediates.iter().chain(anchor.as_ref()) {
            check_crl_signer(ca, crl_issuers)?;
        }
    }
    Ok(())
}

/// The names of the critical extensions of `cert` that webpki does not process (and so
/// must refuse): anything but key usage, subject alternative name, basic constraints,
/// name constraints, CRL distribution points and extended key usage.
pub(crate) fn unknown_critical(cert: &X509Certificate<'_>) -> Vec<String> {
    const PROCESSED: [&str; 6] = [
        "2.5.29.15",
        "2.5.29.17",
        "2.5.29.19",
        "2.5.29.30",
        "2.5.29.31",
        "2.5.29.37",
    ];
    cert.extensions()
        .iter()
        .filter(|ext| ext.critical && !PROCESSED.contains(&ext.oid.to_id_string().as_str()))
        .map(|ext| describe::oid_name(&ext.oid))
        .collect()
}

fn malformed(message: String) -> VerifyFailure {
    VerifyFailure::new(FailureCode::Malformed, message)
}

fn check_anchor(
    req: &VerifyRequest<'_>,
    anchor: &X509Certificate<'_>,
) -> Result<(), VerifyFailure> {
    let validity = anchor.validity();
    let (not_before, not_after) = (
        validity.not_before.to_datetime(),
        validity.not_after.to_datetime(),
    );
    // Certificate times have whole seconds; like webpki, compare at that granularity.
    let at = req.at.unix_timestamp();
    if at > not_after.unix_timestamp() {
        return Err(VerifyFailure::new(
            FailureCode::Expired,
            format!(
                "the trusted root {} expired on {} (at the time checked, {})",
                name(anchor),
                describe::time(not_after),
                describe::time(req.at)
            ),
        ));
    }
    if at < not_before.unix_timestamp() {
        return Err(VerifyFailure::new(
            FailureCode::NotYetValid,
            format!(
                "the trusted root {} is not valid before {} (at the time checked, {})",
                name(anchor),
                describe::time(not_before),
                describe::time(req.at)
            ),
        ));
    }
    let unknown = unknown_critical(anchor);
    if !unknown.is_empty() {
        return Err(VerifyFailure::new(
            FailureCode::UnsupportedCriticalExtension,
            format!(
                "the trusted root {} has the critical extension {}, which certfleet does not understand; RFC 5280 requires refusing such a certificate",
                name(anchor),
                unknown.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Rules for any certificate that signs others in the path; `role` starts the sentence.
fn check_ca(ca: &X509Certificate<'_>, role: &str) -> Result<(), VerifyFailure> {
    let who = format!("{role} {}", name(ca));
    let v3 = ca.version().0 >= 2;
    match ca.basic_constraints() {
        Ok(Some(bc)) if !bc.value.ca => {
            return Err(VerifyFailure::new(
                FailureCode::NotACa,
                format!("{who} is not a CA certificate (Basic Constraints CA:FALSE), so it cannot issue certificates"),
            ))
        }
        Ok(None) if v3 => {
            return Err(VerifyFailure::new(
                FailureCode::NotACa,
                format!("{who} has no Basic Constraints extension, so it is not a CA certificate and cannot issue certificates"),
            ))
        }
        _ => {}
    }
    if let Ok(Some(ku)) = ca.key_usage() {
        if !ku.value.key_cert_sign() {
            return Err(VerifyFailure::new(
                FailureCode::NotACa,
                format!("{who} has a key usage without keyCertSign, so its key may not sign certificates"),
            ));
        }
    }
    if ca.subject().iter_attributes().next().is_none() {
        return Err(malformed(format!(
            "{who} has an empty subject, which a CA must not have (RFC 5280 4.1.2.6)"
        )));
    }
    if let Ok(Some(nc)) = ca.name_constraints() {
        let empty = |t: &Option<Vec<_>>| t.as_ref().is_none_or(Vec::is_empty);
        if empty(&nc.value.permitted_subtrees) && empty(&nc.value.excluded_subtrees) {
            return Err(malformed(format!(
                "{who} has a name constraints extension with neither permitted nor excluded names (RFC 5280 4.2.1.10 forbids it)"
            )));
        }
    }
    check_extensions_decode(ca, &who)
}

fn check_leaf(req: &VerifyRequest<'_>, leaf: &X509Certificate<'_>) -> Result<(), VerifyFailure> {
    let who = format!("the certificate {}", name(leaf));
    let key_usage = leaf.key_usage().ok().flatten();
    if !leaf.is_ca() {
        if key_usage
            .as_ref()
            .is_some_and(|ku| ku.value.key_cert_sign())
        {
            return Err(malformed(format!(
                "{who} allows keyCertSign in its key usage but is not a CA; RFC 5280 (4.2.1.3) allows that bit only together with Basic Constraints CA:TRUE"
            )));
        }
        if matches!(leaf.name_constraints(), Ok(Some(_))) {
            return Err(malformed(format!(
                "{who} has a name constraints extension, which only a CA certificate may carry (RFC 5280 4.2.1.10)"
            )));
        }
    }
    if leaf.subject().iter_attributes().next().is_none() {
        if let Ok(Some(san)) = leaf.subject_alternative_name() {
            if !san.critical {
                return Err(malformed(format!(
                    "{who} has an empty subject and a subject alternative name extension that is not critical; RFC 5280 (4.2.1.6) requires it to be critical then"
                )));
            }
        }
    }
    check_extensions_decode(leaf, &who)?;
    check_leaf_key(leaf, &who)?;
    if let Some(ku) = key_usage {
        let flags = ku.value;
        let missing: Vec<&str> = req
            .leaf_key_usage
            .iter()
            .copied()
            .filter(|bit| !key_usage_allows(flags, bit))
            .collect();
        if !missing.is_empty() {
            return Err(VerifyFailure::new(
                FailureCode::WrongPurpose,
                format!(
                    "{who} has a key usage ({flags}) that does not allow {}",
                    missing.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses a leaf key that TLS clients refuse when they check the handshake signature
/// (webpki does that only then, not during path building): RSA below 2048 bits, DSA,
/// and elliptic curves other than P-256, P-384 and P-521.
fn check_leaf_key(leaf: &X509Certificate<'_>, who: &str) -> Result<(), VerifyFailure> {
    const CURVES: [&str; 3] = ["1.2.840.10045.3.1.7", "1.3.132.0.34", "1.3.132.0.35"];
    let spki = leaf.public_key();
    let refused = |what: String| {
        Err(VerifyFailure::new(
            FailureCode::UnsupportedAlgorithm,
            format!("{who} has {what}, which TLS clients refuse"),
        ))
    };
    match describe::key(leaf) {
        Some((kind, bits)) if kind == "RSA" && bits < 2048 => {
            refused(format!("an RSA key of {bits} bits (2048 at least)"))
        }
        Some((kind, _)) if kind == "DSA" => refused("a DSA key".into()),
        Some((kind, _)) if kind == "EC" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            match curve {
                Some(oid) if CURVES.contains(&oid.to_id_string().as_str()) => Ok(()),
                Some(oid) => refused(format!(
                    "an EC key on the curve {} (accepted: P-256, P-384, P-521)",
                    describe::oid_name(&oid)
                )),
                None => refused("an EC key with explicit curve parameters".into()),
            }
        }
        _ => Ok(()),
    }
}

fn key_usage_allows(ku: &x509_parser::extensions::KeyUsage, bit: &str) -> bool {
    match bit {
        "digitalSignature" | "digital_signature" => ku.digital_signature(),
        "nonRepudiation" | "contentCommitment" | "content_commitment" => ku.non_repudiation(),
        "keyEncipherment" | "key_encipherment" => ku.key_encipherment(),
        "dataEncipherment" | "data_encipherment" => ku.data_encipherment(),
        "keyAgreement" | "key_agreement" => ku.key_agreement(),
        "keyCertSign" | "key_cert_sign" => ku.key_cert_sign(),
        "cRLSign" | "crl_sign" => ku.crl_sign(),
        "encipherOnly" | "encipher_only" => ku.encipher_only(),
        "decipherOnly" | "decipher_only" => ku.decipher_only(),
        _ => false,
    }
}

/// Refuses a certificate with an extension whose contents do not decode.
fn check_extensions_decode(cert: &X509Certificate<'_>, who: &str) -> Result<(), VerifyFailure> {
    for ext in cert.extensions() {
        if let ParsedExtension::ParseError { error } = ext.parsed_extension() {
            return Err(malformed(format!(
                "{who} has a malformed {} extension ({error})",
                describe::oid_name(&ext.oid)
            )));
        }
    }
    Ok(())
}

fn check_crl_signer(
    ca: &X509Certificate<'_>,
    crl_issuers: &[Vec<u8>],
) -> Result<(), VerifyFailure> {
    if !crl_issuers
        .iter()
        .any(|issuer| issuer.as_slice() == ca.subject().as_raw())
    {
        return Ok(());
    }
    match ca.key_usage() {
        Ok(Some(ku)) if !ku.value.crl_sign() => Err(VerifyFailure::new(
            FailureCode::BadCrl,
            format!(
                "the revocation list issued by {} cannot be trusted: that CA's key usage does not include cRLSign",
                name(ca)
            ),
        )),
        _ => Ok(()),
    }
}
