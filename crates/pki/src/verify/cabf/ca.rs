//! Baseline Requirements for the CA certificates of a path: a root (a self-issued trust
//! anchor) carries no extended
//! key usage (7.1.2.1.2) and, when it has an authority key identifier, that identifier
//! holds a keyIdentifier equal to its subject key identifier (7.1.2.1.3); an
//! intermediate carries a subject key identifier and an authority key identifier with a
//! keyIdentifier (7.1.2.2 to 7.1.2.6), and a serial number as 7.1 requires.

use super::leaf::has_key_identifier_aki;
use super::{check_serial, violation};
use crate::chain::is_self_issued;
use crate::verify::VerifyFailure;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;

/// Rules for the trust anchor of the path when it is a root (self-issued). A CA
/// certificate issued by another that the trust store holds (an intermediate or a
/// cross-certificate) is trusted as it is: the root rules do not fit it, and its issuer
/// is not part of the path.
pub(super) fn check_anchor(anchor: &X509Certificate<'_>, who: &str) -> Result<(), VerifyFailure> {
    if is_self_issued(anchor) {
        check_root(anchor, who)
    } else {
        Ok(())
    }
}

fn check_root(root: &X509Certificate<'_>, who: &str) -> Result<(), VerifyFailure> {
    if matches!(root.extended_key_usage(), Ok(Some(_))) {
        return Err(violation(
            who,
            "has an extended key usage extension, which a root CA certificate must not carry",
            "7.1.2.1.2",
        ));
    }
    let subject_key_id = subject_key_identifier(root);
    for ext in root.extensions() {
        if let ParsedExtension::AuthorityKeyIdentifier(aki) = ext.parsed_extension() {
            let matches = match (&aki.key_identifier, subject_key_id) {
                (None, _) => false,
                (Some(id), Some(ski)) => id.0 == ski,
                (Some(_), None) => true,
            };
            if !matches {
                return Err(violation(
                    who,
                    "has an authority key identifier without a keyIdentifier equal to its subject key identifier",
                    "7.1.2.1.3",
                ));
            }
        }
    }
    Ok(())
}

/// Rules for an intermediate CA certificate of the path.
pub(super) fn check_intermediate(ca: &X509Certificate<'_>, who: &str) -> Result<(), VerifyFailure> {
    if subject_key_identifier(ca).is_none() {
        return Err(violation(
            who,
            "has no subject key identifier, which a CA certificate must carry",
            "7.1.2.2",
        ));
    }
    if !has_key_identifier_aki(ca) {
        return Err(violation(
            who,
            "has no authority key identifier (with a keyIdentifier), which a subordinate CA certificate must carry",
            "7.1.2.2",
        ));
    }
    check_serial(ca, who)
}

fn subject_key_identifier<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0),
            _ => None,
        })
}
