//! The error type of the PKI crate.

use certfleet_formats::FormatError;

/// Why a PKI operation could not be done. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The input's encoding could not be read (bad PEM, bad base64, truncated block).
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The input decoded but holds something other than what was asked for.
    #[error("{0}")]
    WrongKind(String),
    /// A certificate, CSR or key whose DER structure does not parse.
    #[error("{what} does not parse: {detail}")]
    Malformed {
        /// What was being parsed, e.g. "certificate 2".
        what: String,
        /// The parser's reason.
        detail: String,
    },
    /// A request that the caller must change (a weak key without `--allow-weak`, an
    /// unknown algorithm, a name that is not a valid DNS name).
    #[error("{0}")]
    Invalid(String),
    /// A CSR refused by the signing policy.
    #[error("policy refuses the request: {0}")]
    Policy(String),
    /// A signed reply that differs from its CSR; each entry is one difference.
    #[error("the certificate does not match the CSR:\n  - {}", .0.join("\n  - "))]
    Mismatch(Vec<String>),
    /// Key generation or signing failed inside the crypto library.
    #[error("crypto operation failed: {0}")]
    Crypto(String),
}

impl From<rcgen::Error> for PkiError {
    fn from(err: rcgen::Error) -> Self {
        PkiError::Crypto(err.to_string())
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, PkiError>;
