//! The error type of the store crate.

/// Why a store or secret operation failed. Messages never carry secret values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A key segment that is empty, `.`/`..`, or holds `/`, `\` or control characters.
    #[error("invalid store key segment '{0}'")]
    InvalidKey(String),
    /// The backend could not be reached or answered with an error (retryable).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The operation did not finish in time (retryable).
    #[error("store operation timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The requested watch revision was compacted away; re-read and watch from now.
    #[error("revision {requested} is no longer available (oldest kept: {oldest})")]
    Compacted {
        /// The revision asked for.
        requested: u64,
        /// The oldest revision still available.
        oldest: u64,
    },
    /// Stored data that does not decode (corruption, or a newer format).
    #[error("corrupt store data: {0}")]
    Corrupt(String),
    /// A lock that is no longer held (its lease expired or it was released).
    #[error("lock '{0}' is no longer held")]
    LockLost(String),
    /// Secrets: no master key, a wrong master key, or a value that is not `CRYPT:`.
    #[error("{0}")]
    Secret(String),
    /// File-system trouble around the data directory.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, StoreError>;

impl From<certfleet_secrets::SecretError> for StoreError {
    fn from(err: certfleet_secrets::SecretError) -> Self {
        match err {
            certfleet_secrets::SecretError::Secret(message) => StoreError::Secret(message),
            certfleet_secrets::SecretError::Io { path, source } => StoreError::Io { path, source },
        }
    }
}
