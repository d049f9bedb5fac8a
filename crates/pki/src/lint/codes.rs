//! The stable codes of lint findings, and a catalogue giving each one's usual severity
//! and meaning (for documentation and `--help` text).
//!
//! Codes never change meaning once released; a new check gets a new code.

use super::Severity;

/// The file holds no certificate at all.
pub const NO_CERTIFICATE: &str = "no-certificate";
/// A certificate block that does not parse as X.509.
pub const UNPARSABLE_CERTIFICATE: &str = "unparsable-certificate";
/// The same certificate appears twice in the file.
pub const DUPLICATE_CERTIFICATE: &str = "duplicate-certificate";

/// An end-entity certificate's common name is not among its DNS/IP SANs.
pub const CN_NOT_IN_SAN: &str = "cn-not-in-san";
/// An end-entity certificate has no subject alternative name extension.
pub const NO_SAN: &str = "no-san";
/// The host asked for is not covered by the leaf's SANs.
pub const HOST_NOT_COVERED: &str = "host-not-covered";

/// An extension other than Key Usage and Basic Constraints is marked critical.
pub const CRITICAL_EXTENSION: &str = "critical-extension";
/// A critical extension that RFC 5280 requires to be critical in this case.
pub const CRITICAL_EXTENSION_REQUIRED: &str = "critical-extension-required";
/// A CA certificate whose Key Usage lacks keyCertSign.
pub const CA_WITHOUT_KEY_CERT_SIGN: &str = "ca-without-keycertsign";
/// A certificate that issued another one in the file but is not a CA.
pub const ISSUER_NOT_CA: &str = "issuer-not-ca";
/// An end-entity certificate marked CA:TRUE.
pub const LEAF_IS_CA: &str = "leaf-is-ca";
/// An end-entity certificate without an extended key usage extension.
pub const EKU_MISSING: &str = "eku-missing";
/// An end-entity certificate whose extended key usage allows neither TLS purpose.
pub const EKU_NOT_TLS: &str = "eku-not-tls";

/// An RSA key below 2048 bits.
pub const WEAK_RSA_KEY: &str = "weak-rsa-key";
/// An elliptic curve other than P-256 and P-384.
pub const UNCOMMON_EC_CURVE: &str = "uncommon-ec-curve";
/// An Ed25519 or Ed448 key: fine for services, refused by browsers.
pub const EDDSA_KEY: &str = "eddsa-key";
/// A key algorithm TLS peers do not accept (DSA, GOST, unknown).
pub const UNSUPPORTED_KEY_ALGORITHM: &str = "unsupported-key-algorithm";
/// The private key given does not belong to the leaf certificate.
pub const KEY_MISMATCH: &str = "key-mismatch";
/// The leaf's key is not one the peer named with `--peer` accepts.
pub const PEER_KEY_REFUSED: &str = "peer-key-refused";

/// A certificate signed with SHA-1.
pub const SHA1_SIGNATURE: &str = "sha1-signature";
/// A certificate signed with MD5 or MD2.
pub const MD5_SIGNATURE: &str = "md5-signature";
/// A certificate whose signature does not verify with its issuer's key.
pub const SIGNATURE_INVALID: &str = "signature-invalid";
/// A signature that could not be checked (algorithm or key size not supported).
pub const SIGNATURE_NOT_CHECKED: &str = "signature-not-checked";

/// The certificate's validity ended.
pub const EXPIRED: &str = "expired";
/// The certificate's validity has not begun.
pub const NOT_YET_VALID: &str = "not-yet-valid";
/// The certificate expires within the warning period.
pub const EXPIRING_SOON: &str = "expiring-soon";
/// An end-entity certificate valid for more than 398 days.
pub const VALIDITY_TOO_LONG: &str = "validity-too-long";
/// A publicly trusted server certificate longer than the CA/Browser Forum maximum in
/// force at its notBefore (see [`super::lifetime::PUBLIC_MAX_DAYS`]).
pub const VALIDITY_OVER_PUBLIC_MAXIMUM: &str = "validity-over-public-maximum";

/// The certificates are not leaf first, then each one's issuer.
pub const CHAIN_OUT_OF_ORDER: &str = "chain-out-of-order";
/// A certificate between the leaf and the CA certificates in the file is missing.
pub const CHAIN_INCOMPLETE: &str = "chain-incomplete";
/// The file holds only the leaf, whose issuer is not included.
pub const CHAIN_ISSUER_MISSING: &str = "chain-issuer-missing";
/// The chain ends at an intermediate; the root is left out (normal for served chains).
pub const CHAIN_ROOT_OMITTED: &str = "chain-root-omitted";
/// A certificate that belongs to no chain of the leaf.
pub const CHAIN_UNRELATED_CERTIFICATE: &str = "chain-unrelated-certificate";

/// Every code with its usual severity and a one-line meaning. A few codes change
/// severity with the case (the message says why): `sha1-signature` and `md5-signature`
/// are notices on a self-signed root, `chain-unrelated-certificate` is a notice in a
/// file holding only CA certificates.
pub const CATALOGUE: &[(&str, Severity, &str)] = &[
    (
        NO_CERTIFICATE,
        Severity::Error,
        "the file holds no certificate",
    ),
    (
        UNPARSABLE_CERTIFICATE,
        Severity::Error,
        "a certificate does not parse as X.509",
    ),
    (
        DUPLICATE_CERTIFICATE,
        Severity::Warning,
        "the same certificate appears twice",
    ),
    (
        CN_NOT_IN_SAN,
        Severity::Error,
        "the common name is not among the SANs",
    ),
    (
        NO_SAN,
        Severity::Error,
        "a server or client certificate has no SAN extension",
    ),
    (
        HOST_NOT_COVERED,
        Severity::Error,
        "the host is not covered by the leaf's SANs",
    ),
    (
        CRITICAL_EXTENSION,
        Severity::Error,
        "an extension other than Key Usage and Basic Constraints is critical",
    ),
    (
        CRITICAL_EXTENSION_REQUIRED,
        Severity::Notice,
        "a critical extension RFC 5280 requires to be critical",
    ),
    (
        CA_WITHOUT_KEY_CERT_SIGN,
        Severity::Error,
        "a CA certificate's Key Usage lacks keyCertSign",
    ),
    (
        ISSUER_NOT_CA,
        Severity::Error,
        "a certificate that issued another is not a CA",
    ),
    (
        LEAF_IS_CA,
        Severity::Warning,
        "a server or client certificate is marked CA:TRUE",
    ),
    (
        EKU_MISSING,
        Severity::Notice,
        "no extended key usage extension",
    ),
    (
        EKU_NOT_TLS,
        Severity::Warning,
        "the extended key usage allows neither serverAuth nor clientAuth",
    ),
    (WEAK_RSA_KEY, Severity::Error, "an RSA key below 2048 bits"),
    (
        UNCOMMON_EC_CURVE,
        Severity::Warning,
        "an elliptic curve other than P-256 or P-384",
    ),
    (
        EDDSA_KEY,
        Severity::Notice,
        "an Ed25519/Ed448 key, which browsers do not accept",
    ),
    (
        UNSUPPORTED_KEY_ALGORITHM,
        Severity::Warning,
        "a key algorithm TLS peers do not accept",
    ),
    (
        KEY_MISMATCH,
        Severity::Error,
        "the private key does not belong to the leaf",
    ),
    (
        PEER_KEY_REFUSED,
        Severity::Error,
        "the leaf's key is not one the peer given with --peer accepts",
    ),
    (SHA1_SIGNATURE, Severity::Error, "signed with SHA-1"),
    (MD5_SIGNATURE, Severity::Error, "signed with MD5 or MD2"),
    (
        SIGNATURE_INVALID,
        Severity::Error,
        "the signature does not verify with the issuer's key",
    ),
    (
        SIGNATURE_NOT_CHECKED,
        Severity::Notice,
        "the signature could not be checked",
    ),
    (EXPIRED, Severity::Error, "the certificate has expired"),
    (
        NOT_YET_VALID,
        Severity::Error,
        "the certificate is not valid yet",
    ),
    (
        EXPIRING_SOON,
        Severity::Warning,
        "the certificate expires within the warning period",
    ),
    (
        VALIDITY_TOO_LONG,
        Severity::Notice,
        "a leaf valid for more than 398 days",
    ),
    (
        VALIDITY_OVER_PUBLIC_MAXIMUM,
        Severity::Warning,
        "a publicly trusted server certificate longer than the CA/Browser Forum maximum at its issuance",
    ),
    (
        CHAIN_OUT_OF_ORDER,
        Severity::Error,
        "not leaf first, then each certificate's issuer",
    ),
    (
        CHAIN_INCOMPLETE,
        Severity::Error,
        "a certificate between the leaf and the file's CA certificates is missing",
    ),
    (
        CHAIN_ISSUER_MISSING,
        Severity::Warning,
        "only the leaf is present; its issuer is not included",
    ),
    (
        CHAIN_ROOT_OMITTED,
        Severity::Notice,
        "the chain stops at an intermediate; the root is left out",
    ),
    (
        CHAIN_UNRELATED_CERTIFICATE,
        Severity::Warning,
        "a certificate belongs to no chain of the leaf",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for (code, _, meaning) in CATALOGUE {
            assert!(seen.insert(*code), "{code} listed twice");
            assert!(!meaning.is_empty());
            assert!(code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }
}
