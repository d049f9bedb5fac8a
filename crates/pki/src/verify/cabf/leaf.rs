//! Baseline Requirements for the subscriber (leaf) certificate: its extended key usage
//! (7.1.2.7.10), key usage (7.1.2.7.11), authority key identifier (7.1.2.7), subject
//! alternative name presence and criticality (7.1.2.7.12), serial number (7.1) and the
//! longest validity period allowed when it was issued (6.3.2).

use super::{check_serial, violation};
use crate::verify::request::{Purpose, VerifyRequest};
use crate::verify::VerifyFailure;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;

/// The longest validity period (BR 6.3.2) by the date the certificate was issued (its
/// notBefore), latest rule first: the limits browsers enforce. The shorter limits that
/// BR 6.3.2 sets from 2026-03-15 on (200, then 100 and 47 days) are not enforced yet.
const VALIDITY_LIMITS: [(OffsetDateTime, i64); 2] = [
    (datetime!(2020-09-01 00:00 UTC), 398),
    (datetime!(2018-03-01 00:00 UTC), 825),
];

/// Applies the leaf rules; `directly_trusted` leaves (the trust store holds the leaf
/// itself) need no authority key identifier.
pub(super) fn check(
    req: &VerifyRequest<'_>,
    leaf: &X509Certificate<'_>,
    directly_trusted: bool,
) -> Result<(), VerifyFailure> {
    let who = super::who(leaf, "the certificate");
    check_eku(leaf, req.purpose, &who)?;
    if let Ok(Some(ku)) = leaf.key_usage() {
        if ku.value.key_cert_sign() || ku.value.crl_sign() {
            return Err(violation(
                &who,
                "allows keyCertSign or cRLSign in its key usage, which a subscriber certificate must not",
                "7.1.2.7.11",
            ));
        }
    }
    if !directly_trusted && !has_key_identifier_aki(leaf) {
        return Err(violation(
            &who,
            "has no authority key identifier (with a keyIdentifier), which a subscriber certificate must carry",
            "7.1.2.7",
        ));
    }
    match leaf.subject_alternative_name() {
        Ok(Some(san)) => {
            let subject_empty = leaf.subject().iter_attributes().next().is_none();
            if san.critical && !subject_empty {
                return Err(violation(
                    &who,
                    "has a critical subject alternative name extension and a non-empty subject; it may be critical only when the subject is empty",
                    "7.1.2.7.12",
                ));
            }
        }
        _ => return Err(violation(
            &who,
            "has no subject alternative name extension, which a subscriber certificate must carry",
            "7.1.2.7.12",
        )),
    }
    check_serial(leaf, &who)?;
    check_validity_period(leaf, &who)
}

/// BR 7.1.2.7.10: the extension is present and not critical, holds the purpose's usage,
/// and neither anyExtendedKeyUsage nor a usage for another kind of certificate.
fn check_eku(leaf: &X509Certificate<'_>, purpose: Purpose, who: &str) -> Result<(), VerifyFailure> {
    const SECTION: &str = "7.1.2.7.10";
    let Ok(Some(eku)) = leaf.extended_key_usage() else {
        return Err(violation(
            who,
            "has no extended key usage extension, which a subscriber certificate must carry",
            SECTION,
        ));
    };
    if eku.critical {
        return Err(violation(
            who,
            "marks its extended key usage extension critical, which a subscriber certificate must not",
            SECTION,
        ));
    }
    let usages = eku.value;
    let wanted = match purpose {
        Purpose::Server => usages.server_auth,
        Purpose::Client => usages.client_auth,
    };
    if !wanted {
        return Err(violation(
            who,
            &format!("has an extended key usage without {}", purpose.eku_name()),
            SECTION,
        ));
    }
    if usages.any {
        return Err(violation(
            who,
            "allows anyExtendedKeyUsage, which a subscriber certificate must not",
            SECTION,
        ));
    }
    if usages.code_signing || usages.email_protection || usages.time_stamping || usages.ocsp_signing
    {
        return Err(violation(
            who,
            "allows code signing, e-mail protection, time stamping or OCSP signing beside TLS, which a TLS subscriber certificate must not",
            SECTION,
        ));
    }
    Ok(())
}

/// Whether the certificate has an authority key identifier with a keyIdentifier.
pub(super) fn has_key_identifier_aki(cert: &X509Certificate<'_>) -> bool {
    cert.extensions()
        .iter()
        .any(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.is_some(),
            _ => false,
        })
}

/// BR 6.3.2: the validity period (notBefore to notAfter, both included) is no longer
/// than the rule in force on the day of issuance allows.
fn check_validity_period(leaf: &X509Certificate<'_>, who: &str) -> Result<(), VerifyFailure> {
    let validity = leaf.validity();
    let not_before = validity.not_before.to_datetime();
    let period = validity.not_after.to_datetime() - not_before + Duration::seconds(1);
    let Some((since, days)) = VALIDITY_LIMITS
        .iter()
        .find(|(since, _)| not_before >= *since)
    else {
        return Ok(());
    };
    if period > Duration::days(*days) {
        return Err(violation(
            who,
            &format!(
                "is valid for {} days, more than the {days} days allowed for a certificate issued on or after {}",
                (period.whole_seconds() + 86_399) / 86_400,
                since.date()
            ),
            "6.3.2",
        ));
    }
    Ok(())
}
