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
    /// An existing keystore of another format than the one asked for.
    #[error("is a {found} keystore, not {wanted}; leave out --type or convert it")]
    KeystoreTypeMismatch {
        /// The file's format.
        found: crate::keystore::KeystoreFormat,
        /// The format asked for.
        wanted: crate::keystore::KeystoreFormat,
    },
    /// The legacy PKCS#12 profile asked for on a JKS file.
    #[error("--legacy applies to PKCS#12 only")]
    LegacyNeedsPkcs12,
    /// A new entry under an alias the keystore already has.
    #[error("alias '{0}' already exists; remove it first with `certfleet keystore delete`")]
    AliasTaken(String),
    /// No entry under the alias; names the aliases there are.
    #[error("no entry '{alias}'; its aliases: {}", if aliases.is_empty() { "none".to_owned() } else { aliases.join(", ") })]
    NoSuchAlias {
        /// The alias asked for.
        alias: String,
        /// The keystore's aliases.
        aliases: Vec<String>,
    },
    /// An entry without a certificate.
    #[error("entry '{0}' has no certificate")]
    EntryWithoutCertificate(String),
    /// A trusted-certificate entry asked for its private key.
    #[error("entry '{0}' is a trusted certificate; it has no private key")]
    EntryWithoutKey(String),
    /// A key password change asked of a PKCS#12 file, whose keys have none of their own.
    #[error(
        "PKCS#12 protects keys with the store password; change it with `certfleet keystore passwd`"
    )]
    NoKeyPasswords,
    /// A key password that differs from the store password, for a PKCS#12 file.
    #[error("PKCS#12 protects keys with the store password; leave out --key-password")]
    Pkcs12KeyPassword,
    /// A keystore to create whose name does not tell its format; names the file.
    #[error("{0}: does not exist, and its name does not tell the type (.jks, .p12, .pfx); give --type jks or --type pkcs12")]
    UnknownKeystoreType(String),
}
