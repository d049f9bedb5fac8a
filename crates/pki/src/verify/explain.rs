//! Every webpki error in words: [`path_error`] turns what webpki reports into a
//! [`VerifyFailure`] that names the certificate concerned and the dates, names or usages
//! behind the refusal.

use super::describe::{self, name};
use super::diagnose::{self, candidates, find, find_name};
use super::request::VerifyRequest;
use super::{FailureCode, VerifyFailure};
use webpki::Error;

/// The words for a failed path verification of `req`.
pub(crate) fn path_error(req: &VerifyRequest<'_>, err: &Error) -> VerifyFailure {
    use FailureCode as C;
    let certs = candidates(req);
    #[allow(deprecated)] // the old context-free variants are still produced in places
    match err {
        Error::CertExpired { time, not_after } => {
            let secs = i64::try_from(not_after.as_secs()).unwrap_or(i64::MAX);
            let who = find(&certs, |c| c.validity().not_after.timestamp() == secs)
                .unwrap_or_else(|| "a certificate of the chain".into());
            VerifyFailure::new(
                C::Expired,
                format!(
                    "{who} expired on {} (at the time checked, {})",
                    describe::unix_time(*not_after),
                    describe::unix_time(*time)
                ),
            )
        }
        Error::CertNotValidYet { time, not_before } => {
            let secs = i64::try_from(not_before.as_secs()).unwrap_or(i64::MAX);
            let who = find(&certs, |c| c.validity().not_before.timestamp() == secs)
                .unwrap_or_else(|| "a certificate of the chain".into());
            VerifyFailure::new(
                C::NotYetValid,
                format!(
                    "{who} is not valid before {} (at the time checked, {})",
                    describe::unix_time(*not_before),
                    describe::unix_time(*time)
                ),
            )
        }
        Error::InvalidCertValidity => {
            let who = find(&certs, |c| c.validity().not_before > c.validity().not_after)
                .unwrap_or_else(|| "a certificate of the chain".into());
            VerifyFailure::new(
                C::Malformed,
                format!("{who} has a validity period that ends before it begins"),
            )
        }
        Error::UnknownIssuer => diagnose::unknown_issuer(req),
        Error::CaUsedAsEndEntity => VerifyFailure::new(
            C::CaUsedAsLeaf,
            format!(
                "the certificate {} is a CA certificate (Basic Constraints CA:TRUE): it can issue certificates but is not itself a certificate for {}",
                describe::name_der(req.leaf),
                req.purpose.describe()
            ),
        ),
        Error::EndEntityUsedAsCa => {
            let who = find_name(&certs[1..], |c| !c.is_ca())
                .map(|n| format!("the intermediate certificate {n}"))
                .unwrap_or_else(|| "an intermediate certificate".into());
            VerifyFailure::new(
                C::NotACa,
                format!("{who} is used as an issuing CA, but it is not a CA certificate (Basic Constraints CA:TRUE is missing)"),
            )
        }
        Error::PathLenConstraintViolated => {
            let who = find_name(&certs[1..], |c| {
                matches!(c.basic_constraints(), Ok(Some(bc)) if bc.value.path_len_constraint.is_some())
            })
            .map(|n| format!(" (the CA certificate {n} limits it)"))
            .unwrap_or_default();
            VerifyFailure::new(
                C::PathTooLong,
                format!("the chain has more intermediate CAs than a CA's path length constraint allows{who}"),
            )
        }
        Error::MaximumPathDepthExceeded => VerifyFailure::new(
            C::PathTooLong,
            "the chain is longer than the 6 intermediate CAs a verifier follows",
        ),
        Error::RequiredEkuNotFoundContext(ctx) => {
            let present: Vec<String> = ctx.present.iter().map(|arcs| describe::eku_name(arcs)).collect();
            diagnose::wrong_purpose(req, &present)
        }
        Error::RequiredEkuNotFound => diagnose::wrong_purpose(req, &[]),
        Error::EmptyEkuExtension => {
            let who = find(&certs, |c| matches!(c.extended_key_usage(), Ok(Some(e)) if diagnose::eku_names(e.value).is_empty()))
                .unwrap_or_else(|| "a certificate of the chain".into());
            VerifyFailure::new(
                C::WrongPurpose,
                format!("{who} has an extended key usage extension that lists no usage, so it is good for nothing"),
            )
        }
        Error::NameConstraintViolation => diagnose::name_constraints(req),
        Error::MalformedNameConstraint | Error::InvalidNetworkMaskConstraint => {
            let cas: Vec<_> = certs[1..].iter().chain(req.trust_anchors).cloned().collect();
            let who = find_name(&cas, |c| matches!(c.name_constraints(), Ok(Some(_))))
                .map(|n| format!("the CA certificate {n}"))
                .unwrap_or_else(|| "a CA of the chain".into());
            VerifyFailure::new(C::NameConstraints, format!("{who} has malformed name constraints"))
        }
        Error::InvalidSignatureForPublicKey => diagnose::bad_signature(req),
        Error::SignatureAlgorithmMismatch => VerifyFailure::new(
            C::BadSignature,
            "a certificate of the chain names one signature algorithm inside its signed part and another outside it; it was tampered with or badly made",
        ),
        Error::UnsupportedSignatureAlgorithmContext(ctx) => {
            unsupported_algorithm(&certs, &ctx.signature_algorithm_id)
        }
        Error::UnsupportedSignatureAlgorithm => unsupported_algorithm(&certs, &[]),
        Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | Error::UnsupportedSignatureAlgorithmForPublicKey => VerifyFailure::new(
            C::UnsupportedAlgorithm,
            "a signature in the chain was made with a key that is refused or does not fit the signature algorithm (RSA keys must have 2048 to 8192 bits; DSA keys and unusual curves are refused)",
        ),
        Error::UnsupportedCriticalExtension => unknown_critical(&certs),
        Error::CertDistrusted => VerifyFailure::new(
            C::Distrusted,
            "a certificate of the chain has a key that is explicitly distrusted (a CA key known to have been misused)",
        ),
        Error::CertRevoked => VerifyFailure::new(
            C::Revoked,
            format!("{} is revoked: its serial number is on its issuer's certificate revocation list", super::crl::revoked_one(req, &certs)),
        ),
        Error::CrlExpired { time, next_update } => VerifyFailure::new(
            C::BadCrl,
            format!(
                "a certificate revocation list is out of date: its next update was due {} (at the time checked, {})",
                describe::unix_time(*next_update),
                describe::unix_time(*time)
            ),
        ),
        Error::InvalidCrlSignatureForPublicKey => VerifyFailure::new(C::BadCrl, "the signature on a certificate revocation list does not verify with its issuer's key"),
        Error::IssuerNotCrlSigner => VerifyFailure::new(C::BadCrl, "a certificate revocation list was signed by a CA whose key usage does not include cRLSign"),
        Error::UnknownRevocationStatus => VerifyFailure::new(C::BadCrl, "the revocation status of a certificate of the chain cannot be determined from the revocation lists given"),
        Error::UnsupportedCrlSignatureAlgorithmContext(_)
        | Error::UnsupportedCrlSignatureAlgorithm
        | Error::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_)
        | Error::UnsupportedCrlSignatureAlgorithmForPublicKey => VerifyFailure::new(C::BadCrl, "a certificate revocation list is signed with an algorithm or key that is refused"),
        Error::InvalidCrlNumber
        | Error::UnsupportedCrlVersion
        | Error::UnsupportedDeltaCrl
        | Error::UnsupportedIndirectCrl
        | Error::UnsupportedRevocationReason
        | Error::UnsupportedRevocationReasonsPartitioning
        | Error::UnsupportedCrlIssuingDistributionPoint => VerifyFailure::new(
            C::BadCrl,
            format!("a certificate revocation list uses a form that is not supported ({err:?})"),
        ),
        Error::MaximumSignatureChecksExceeded
        | Error::MaximumPathBuildCallsExceeded
        | Error::MaximumNameConstraintComparisonsExceeded => VerifyFailure::new(
            C::TooComplex,
            "the certificates given form too many possible chains to search (this looks like a deliberate attempt to exhaust the verifier)",
        ),
        Error::MalformedDnsIdentifier => VerifyFailure::new(
            C::Malformed,
            "a DNS name in the chain is malformed (only letters, digits, hyphens and dots are allowed, and a wildcard only as a whole leftmost label)",
        ),
        Error::UnsupportedNameType => VerifyFailure::new(C::Malformed, "a name in the chain is of a type that cannot be checked"),
        other => malformed(&certs, other),
    }
}

/// A DER or extension error, naming the certificate webpki cannot read when one of them
/// does not parse on its own.
fn malformed(certs: &[rustls_pki_types::CertificateDer<'static>], err: &Error) -> VerifyFailure {
    let who = certs
        .iter()
        .enumerate()
        .find(|(_, der)| webpki::EndEntityCert::try_from(*der).is_err())
        .map(|(index, der)| {
            let role = if index == 0 {
                "the certificate"
            } else {
                "the intermediate certificate"
            };
            format!("{role} {}", describe::name_der(der))
        })
        .unwrap_or_else(|| "a certificate of the chain".into());
    VerifyFailure::new(
        FailureCode::Malformed,
        format!("{who} {}", malformed_words(err)),
    )
}

/// What is wrong with a certificate that webpki cannot read, as the end of a sentence.
pub(crate) fn malformed_words(err: &Error) -> String {
    match err {
        Error::BadDer => "is not valid DER".into(),
        Error::BadDerTime => "has a badly encoded validity time".into(),
        Error::TrailingData(what) => format!("has extra bytes after its {what:?}"),
        Error::MalformedExtensions => "has malformed or repeated extensions".into(),
        Error::ExtensionValueInvalid => {
            "has an extension with an invalid value, or the same extension twice".into()
        }
        Error::SignatureAlgorithmMismatch => "names one signature algorithm inside its signed part and another outside it (it was tampered with or badly made)".into(),
        Error::InvalidCertValidity => "has a validity period that ends before it begins".into(),
        Error::UnsupportedCertVersion => "is not an X.509 version 3 certificate".into(),
        Error::InvalidSerialNumber => {
            "has an invalid serial number (negative, or longer than 20 bytes)".into()
        }
        Error::UnsupportedCriticalExtension => {
            "has a critical extension that certfleet does not understand".into()
        }
        other => format!("cannot be read ({other:?})"),
    }
}

/// The words for a leaf webpki cannot read at all.
pub(crate) fn unreadable_leaf(
    leaf: &rustls_pki_types::CertificateDer<'static>,
    err: &Error,
) -> VerifyFailure {
    if matches!(err, Error::UnsupportedCriticalExtension) {
        return unknown_critical(std::slice::from_ref(leaf));
    }
    VerifyFailure::new(
        FailureCode::Malformed,
        format!(
            "the certificate {} {}",
            describe::name_der(leaf),
            malformed_words(err)
        ),
    )
}

/// A critical extension that is not understood, naming the certificate and extension.
fn unknown_critical(certs: &[rustls_pki_types::CertificateDer<'static>]) -> VerifyFailure {
    let hit = certs.iter().enumerate().find_map(|(index, der)| {
        let cert = describe::parse(der)?;
        let unknown = super::profile::unknown_critical(&cert);
        let role = if index == 0 {
            "the certificate"
        } else {
            "the intermediate CA certificate"
        };
        (!unknown.is_empty()).then(|| {
            format!(
                "{role} {} has the critical extension {}",
                name(&cert),
                unknown.join(", ")
            )
        })
    });
    let who = hit.unwrap_or_else(|| "a certificate of the chain has a critical extension".into());
    VerifyFailure::new(
        FailureCode::UnsupportedCriticalExtension,
        format!("{who}, which certfleet does not understand; RFC 5280 requires refusing such a certificate"),
    )
}

/// A signature algorithm that is refused, naming the certificate signed with it.
fn unsupported_algorithm(
    certs: &[rustls_pki_types::CertificateDer<'static>],
    algorithm_id: &[u8],
) -> VerifyFailure {
    // The identifier is the DER of the AlgorithmIdentifier's contents: the OID first.
    let oid = match algorithm_id {
        [0x06, len, rest @ ..] if rest.len() >= usize::from(*len) => {
            x509_parser::der_parser::oid::Oid::new(rest[..usize::from(*len)].into()).to_id_string()
        }
        _ => String::new(),
    };
    let hit = certs.iter().enumerate().find_map(|(index, der)| {
        let cert = describe::parse(der)?;
        let alg = &cert.signature_algorithm.algorithm;
        let role = if index == 0 {
            "the certificate"
        } else {
            "the intermediate CA certificate"
        };
        (oid.is_empty() || alg.to_id_string() == oid)
            .then(|| (format!("{role} {}", name(&cert)), describe::oid_name(alg)))
    });
    let reason = match hit {
        Some((who, alg)) => format!(
            "{who} is signed with {alg}, which is refused (accepted: ECDSA, Ed25519, and RSA with SHA-256 or stronger; SHA-1 and MD5 signatures can be forged)"
        ),
        None => "a certificate of the chain is signed with an algorithm that is refused (accepted: ECDSA, Ed25519, and RSA with SHA-256 or stronger)".into(),
    };
    VerifyFailure::new(FailureCode::UnsupportedAlgorithm, reason)
}
