//! The `webpki` profile: the CA/Browser Forum Baseline Requirements (BR) that decide
//! whether a publicly trusted TLS certificate may exist at all, checked on every
//! candidate path webpki has accepted, after the RFC 5280 rules of `profile.rs`.
//!
//! - [`leaf`]: the subscriber certificate's extensions (EKU, key usage, AKI, SAN
//!   criticality), serial number and validity period;
//! - [`names`]: its common name among its SANs, DNS names in preferred syntax, and no
//!   wildcard directly under a public suffix;
//! - [`ca`]: the root's and the intermediates' extensions (no EKU on a root, key
//!   identifiers, serial numbers);
//! - [`keys`]: key sizes and curves of every certificate of the path;
//! - [`SIGNATURE_ALGORITHMS`]: the signature algorithms BR 7.1.3.2 allows, given to
//!   webpki instead of all it knows.
//!
//! Some BR rules for roots are left out on purpose because roots that browsers trust
//! today break them, and the trust store, not the BRs, decides which roots count: an
//! authority key identifier with issuer and serial number (QuoVadis Root CA 2 and 3,
//! Certigna, Go Daddy and Starfield Class 2), a missing subject key identifier (TWCA
//! Global Root CA, Hongkong Post Root CA 1), a non-critical Basic Constraints and a zero
//! serial number.

mod ca;
mod keys;
mod leaf;
mod names;

use super::describe;
use super::profile::Candidate;
use super::request::VerifyRequest;
use super::{FailureCode, VerifyFailure};
use rustls_pki_types::SignatureVerificationAlgorithm;
use webpki::aws_lc_rs as algs;
use x509_parser::certificate::X509Certificate;

/// BR 7.1.3.2: RSASSA-PKCS1-v1_5 (with the NULL parameter) and RSASSA-PSS over RSA keys
/// with SHA-256, SHA-384 or SHA-512, and ECDSA with the hash of its curve (P-256 with
/// SHA-256, P-384 with SHA-384, P-521 with SHA-512). No Ed25519, no other pairing.
pub(crate) static SIGNATURE_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    algs::ECDSA_P256_SHA256,
    algs::ECDSA_P384_SHA384,
    algs::ECDSA_P521_SHA512,
    algs::RSA_PKCS1_2048_8192_SHA256,
    algs::RSA_PKCS1_2048_8192_SHA384,
    algs::RSA_PKCS1_2048_8192_SHA512,
    algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// Applies the Baseline Requirements to one candidate path webpki found. A certificate
/// that does not parse was already refused by webpki or `profile.rs`.
pub(crate) fn check(req: &VerifyRequest<'_>, path: &Candidate<'_>) -> Result<(), VerifyFailure> {
    let Some(leaf) = describe::parse(path.leaf) else {
        return Ok(());
    };
    let directly_trusted = path.anchor == path.leaf;
    leaf::check(req, &leaf, directly_trusted)?;
    names::check(&leaf)?;
    keys::check(&leaf, &who(&leaf, "the certificate"))?;
    for intermediate in path
        .intermediates
        .iter()
        .filter_map(|der| describe::parse(der))
    {
        let who = who(&intermediate, "the intermediate CA certificate");
        ca::check_intermediate(&intermediate, &who)?;
        keys::check(&intermediate, &who)?;
    }
    if let (Some(anchor), false) = (describe::parse(path.anchor), directly_trusted) {
        let who = who(&anchor, "the trusted root");
        ca::check_anchor(&anchor, &who)?;
        keys::check(&anchor, &who)?;
    }
    Ok(())
}

/// How a certificate is named in a reason: `role 'subject'`.
fn who(cert: &X509Certificate<'_>, role: &str) -> String {
    format!("{role} {}", describe::name(cert))
}

/// A refusal under the Baseline Requirements: `who` breaks `rule` (the sentence after
/// the certificate's name) by section.
fn violation(who: &str, rule: &str, section: &str) -> VerifyFailure {
    VerifyFailure::new(
        FailureCode::BaselineRequirements,
        format!("{who} {rule} (CA/Browser Forum Baseline Requirements {section}; profile webpki)"),
    )
}

/// BR 7.1: a serial number greater than zero and, encoded, at most 20 octets (RFC 5280
/// 4.1.2.2).
fn check_serial(cert: &X509Certificate<'_>, who: &str) -> Result<(), VerifyFailure> {
    let serial = cert.raw_serial();
    if serial.iter().all(|byte| *byte == 0) || serial.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(violation(
            who,
            "has a serial number that is not greater than zero",
            "7.1",
        ));
    }
    if serial.len() > 20 {
        return Err(violation(
            who,
            &format!(
                "has a serial number of {} octets (20 at most)",
                serial.len()
            ),
            "7.1",
        ));
    }
    Ok(())
}
