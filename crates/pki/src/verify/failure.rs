//! Why a chain was refused: a stable machine code and a sentence for administrators.

use serde::Serialize;
use std::fmt;

/// The kind of a verification failure, stable for scripts (`--json` prints
/// [`FailureCode::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureCode {
    /// A certificate of the chain expired before the time checked.
    Expired,
    /// A certificate of the chain is not valid yet at the time checked.
    NotYetValid,
    /// The chain does not lead to a certificate in the trust store.
    UnknownIssuer,
    /// The certificate (or a CA above it) is not for the purpose asked for.
    WrongPurpose,
    /// The certificate is not valid for the host name or IP address asked for.
    NameMismatch,
    /// A signature in the chain does not verify.
    BadSignature,
    /// A signature algorithm or key type that is refused (SHA-1, DSA, small RSA, ...).
    UnsupportedAlgorithm,
    /// A CA certificate was presented as the server or client certificate.
    CaUsedAsLeaf,
    /// A certificate that is not a CA sits where an issuing CA must be.
    NotACa,
    /// The chain is longer than a CA's path length, or than the maximum asked for.
    PathTooLong,
    /// A name in the chain is outside the names a CA may certify.
    NameConstraints,
    /// A certificate of the chain is revoked by a CRL that was given.
    Revoked,
    /// A CRL that was given is unusable (bad signature, expired, non-conforming).
    BadCrl,
    /// A certificate does not parse, or carries malformed or forbidden extensions.
    Malformed,
    /// A certificate carries a critical extension that no verifier may ignore.
    UnsupportedCriticalExtension,
    /// A certificate's key is on the distrust list of the verifier.
    Distrusted,
    /// The certificates form a maze too large to search (a denial-of-service attempt).
    TooComplex,
    /// The trust store holds no certificate.
    NoTrustAnchors,
    /// A certificate of the trust store cannot be used as a trust anchor.
    BadTrustAnchor,
    /// The host to check is neither a DNS name nor an IP address.
    BadHost,
    /// A certificate of the chain breaks a CA/Browser Forum Baseline Requirement that the
    /// `webpki` profile enforces (a public CA must not issue it, so browsers refuse it).
    BaselineRequirements,
}

impl FailureCode {
    /// The machine spelling, e.g. `"expired"` or `"name_mismatch"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::Expired => "expired",
            FailureCode::NotYetValid => "not_yet_valid",
            FailureCode::UnknownIssuer => "unknown_issuer",
            FailureCode::WrongPurpose => "wrong_purpose",
            FailureCode::NameMismatch => "name_mismatch",
            FailureCode::BadSignature => "bad_signature",
            FailureCode::UnsupportedAlgorithm => "unsupported_algorithm",
            FailureCode::CaUsedAsLeaf => "ca_used_as_leaf",
            FailureCode::NotACa => "not_a_ca",
            FailureCode::PathTooLong => "path_too_long",
            FailureCode::NameConstraints => "name_constraints",
            FailureCode::Revoked => "revoked",
            FailureCode::BadCrl => "bad_crl",
            FailureCode::Malformed => "malformed",
            FailureCode::UnsupportedCriticalExtension => "unsupported_critical_extension",
            FailureCode::Distrusted => "distrusted",
            FailureCode::TooComplex => "too_complex",
            FailureCode::NoTrustAnchors => "no_trust_anchors",
            FailureCode::BadTrustAnchor => "bad_trust_anchor",
            FailureCode::BadHost => "bad_host",
            FailureCode::BaselineRequirements => "baseline_requirements",
        }
    }

    /// True for failures caused by what the caller passed (an empty or unreadable trust
    /// store, a host that is not a name) rather than by the certificate; the CLI exits
    /// with status 2 for these instead of 1.
    pub fn is_usage_error(self) -> bool {
        matches!(
            self,
            FailureCode::NoTrustAnchors | FailureCode::BadTrustAnchor | FailureCode::BadHost
        )
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused chain: what kind of failure, and a sentence saying why in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{reason}")]
pub struct VerifyFailure {
    /// The kind of failure.
    pub code: FailureCode,
    /// One or two sentences for an administrator, naming the certificate concerned.
    pub reason: String,
}

impl VerifyFailure {
    /// A failure of kind `code` with the given reason.
    pub fn new(code: FailureCode, reason: impl Into<String>) -> Self {
        VerifyFailure {
            code,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_machine_spelling() {
        let failure = VerifyFailure::new(FailureCode::NameMismatch, "wrong host");
        let json = serde_json::to_value(&failure).unwrap();
        assert_eq!(json["code"], "name_mismatch");
        assert_eq!(json["reason"], "wrong host");
        assert_eq!(FailureCode::CaUsedAsLeaf.to_string(), "ca_used_as_leaf");
        assert!(FailureCode::BadHost.is_usage_error());
        assert!(!FailureCode::Expired.is_usage_error());
    }
}
