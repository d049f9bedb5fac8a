//! What can go wrong with a secret.

/// A secret that could not be read, written, sealed or opened. Messages never hold the
/// secret itself.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No master key, a wrong master key, a value that is not `CRYPT:`, a value sealed
    /// for another field, or a password the policy refuses.
    #[error("{0}")]
    Secret(String),
    /// File-system trouble around the data directory or the master key file.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, SecretError>;
