//! The monitor crate's error type: what can go wrong before a scan runs (a target that
//! does not parse, a TLS client that cannot be built), when a scan record is stored, and
//! when the webhook's client is built.
//! A target that cannot be reached is not an error: it is a scan result that says why.

/// An error of the monitor crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// A scan target is not `HOST:PORT` or `HOST:PORT/SNI`; the message names it.
    #[error("target '{target}': {reason}")]
    BadTarget {
        /// The target as given.
        target: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS client could not be configured.
    #[error("TLS client configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// A scan record names no usable store key.
    #[error("store key: {0}")]
    Store(#[from] certfleet_store::StoreError),
    /// A scan record is not what the record format says.
    #[error("scan record: {0}")]
    BadRecord(String),
    /// The webhook's client could not be built (the message names `[monitor] webhook`
    /// or the TLS settings; never the URL's path or query).
    #[error("{0}")]
    Webhook(String),
}

/// The monitor crate's result type.
pub type Result<T> = std::result::Result<T, MonitorError>;
