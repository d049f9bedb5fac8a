//! The error type of the edge crate. Messages name the domain, file or alias at fault and
//! never carry key material.

use certfleet_pki::PkiError;
use std::path::PathBuf;

/// Why an edge operation could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EdgeError {
    /// A domain name that is not a DNS host name.
    #[error("'{name}' is not a valid domain name: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A domain that the tree does not hold.
    #[error("no domain is named {0}")]
    UnknownDomain(String),
    /// A change that would break the tree's shape (duplicate, missing parent, cycle, a
    /// second master, removing a domain that still has children).
    #[error("{0}")]
    Tree(String),
    /// A certificate that cannot be stored or served (no key, a key that does not match,
    /// a key type TLS cannot use).
    #[error("{0}")]
    Certificate(String),
    /// A certificate whose SANs do not cover the domain's name; `--force` stores it anyway.
    #[error(
        "the certificate does not cover the domain {domain} (its names: {}); give --force to store it anyway",
        if .sans.is_empty() { "none".to_owned() } else { .sans.join(", ") }
    )]
    NameNotCovered {
        /// The domain's name.
        domain: String,
        /// The certificate's SANs (`DNS:name`, `IP:addr`).
        sans: Vec<String>,
    },
    /// A key or certificate that the PKI layer refused (bad PEM, key matching no
    /// certificate, two keys...), with the block named.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// A file that could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A certdir given as `alias://NAME` whose alias is not in the aliases table, or a
    /// certdir that does not hold a usable `server.key` and `server.crt`.
    #[error("{0}")]
    Certdir(String),
    /// A TLS configuration rustls refused.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// The store failed or holds a record that does not decode.
    #[error(transparent)]
    Store(#[from] certfleet_store::StoreError),
}

impl From<rustls::Error> for EdgeError {
    fn from(err: rustls::Error) -> Self {
        EdgeError::Tls(err.to_string())
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, EdgeError>;
