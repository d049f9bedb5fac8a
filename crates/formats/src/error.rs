//! The error type of the formats crate.

/// Why bytes could not be read as the encoding they were offered as.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// A PEM block whose base64 body does not decode.
    #[error("block {index} ({label}): bad base64 in the body")]
    BadBase64 {
        /// 1-based position of the block in the input.
        index: usize,
        /// The block's label, e.g. `CERTIFICATE`.
        label: String,
    },
    /// A PEM block that starts but never ends.
    #[error("block {index} ({label}): truncated, no matching END line")]
    Truncated {
        /// 1-based position of the block in the input.
        index: usize,
        /// The block's label.
        label: String,
    },
    /// A PEM block with an empty body.
    #[error("block {index} ({label}): empty body")]
    EmptyBlock {
        /// 1-based position of the block in the input.
        index: usize,
        /// The block's label.
        label: String,
    },
    /// A PEM block with RFC 1421 headers (legacy `Proc-Type: 4,ENCRYPTED` keys).
    #[error("block {index} ({label}): legacy encrypted PEM (Proc-Type header) is not supported; convert the key to encrypted PKCS#8 with `openssl pkcs8 -topk8`")]
    LegacyEncryptedPem {
        /// 1-based position of the block in the input.
        index: usize,
        /// The block's label.
        label: String,
    },
    /// Input that is neither PEM nor a DER structure.
    #[error("not PEM and not DER")]
    Unrecognised,
    /// A keystore whose integrity check failed: the store password is wrong, or the file
    /// was changed or cut short. Never names the password.
    #[error("wrong password or corrupted keystore")]
    WrongPassword,
    /// A keystore entry whose private key does not decrypt with the key password.
    #[error("entry '{0}': wrong key password (give it with --key-password) or corrupted key")]
    WrongKeyPassword(String),
    /// A keystore kind or feature certfleet does not handle (JCEKS, secret-key entries, ...).
    #[error("unsupported keystore: {0}")]
    UnsupportedKeystore(String),
    /// A PKCS#12 password with characters the format cannot hold: its passwords are
    /// BMPStrings, so nothing above U+FFFF (emoji, for one). Never names the password.
    #[error(
        "a PKCS#12 password cannot hold characters above U+FFFF (such as emoji); choose another"
    )]
    Pkcs12Password,
    /// A keystore that is malformed, or a keystore model that cannot be written.
    #[error("keystore: {0}")]
    Keystore(String),
}
