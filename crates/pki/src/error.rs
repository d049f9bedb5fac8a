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
    /// A conversion that needs the input's private key, of an input without one.
    #[error("the input holds no private key")]
    NoPrivateKey,
    /// A CSR asked to convert to anything but PEM or DER.
    #[error("the input is a CSR; it converts to pem or der only")]
    RequestConversion,
    /// A keystore key entry asked of an input without a private key.
    #[error("a keystore key entry needs a private key; the input has none (use pkcs12-trust or jks-trust for certificates)")]
    KeyEntryNeedsKey,
    /// A keystore key entry asked of an input with a key but no certificate.
    #[error("a keystore key entry needs the key's certificate; the input has only a key")]
    KeyEntryNeedsCertificate,
    /// A truststore asked of an input without certificates.
    #[error("a truststore needs certificates; the input has only a key")]
    TruststoreNeedsCertificates,
    /// A keystore with several private-key entries and none chosen; names their aliases.
    #[error("the keystore has {} private-key entries ({}); choose one with --alias", .0.len(), .0.join(", "))]
    AmbiguousKeyEntry(Vec<String>),
    /// Something wrong inside one keystore entry; names its alias.
    #[error("entry '{alias}': {error}")]
    Entry {
        /// The entry's alias.
        alias: String,
        /// What is wrong.
        error: Box<PkiError>,
    },
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
