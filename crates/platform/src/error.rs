//! The error type of the platform crate: what went wrong, naming the model file, the line
//! and the key, or the file on disk, and never a key or a password.

use std::path::PathBuf;

/// Why a model could not be planned or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// The model file is wrong at a known place: a bad value, an unknown key, a reference
    /// to something that does not exist.
    #[error("{file}:{line}: {key}: {message}")]
    Model {
        /// The model file as given.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The key (or table) at fault, e.g. `service.node`.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A file could not be read or a directory could not be made.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A CA's reply does not answer the CSR it should (each difference listed).
    #[error("{}: {message}", path.display())]
    Reply {
        /// The reply file.
        path: PathBuf,
        /// The differences.
        message: String,
    },
    /// Issuing, signing or encoding failed.
    #[error("service '{service}': {message}")]
    Service {
        /// The service whose certificate or output failed.
        service: String,
        /// What failed.
        message: String,
    },
    /// Something on disk makes going on unsafe: a model others may change, a path that
    /// leaves `--root` through a symbolic link.
    #[error("{}: {message}", path.display())]
    Unsafe {
        /// The file or directory at fault.
        path: PathBuf,
        /// Why, and what to do.
        message: String,
    },
    /// Files at output paths that certfleet did not write (not in its state): apply
    /// leaves them alone unless told to take them over.
    #[error("{} file(s) at output paths were not written by certfleet and would be overwritten: {}; nothing was written. Move them away, or run apply with --adopt to take them over", paths.len(), shown(paths))]
    Unrecorded {
        /// The files, in model order.
        paths: Vec<PathBuf>,
    },
    /// The state directory holds something unreadable.
    #[error("{}: {message}", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl PlatformError {
    /// A file error from an I/O error.
    pub fn io(path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        PlatformError::File {
            path: path.into(),
            message: err.to_string(),
        }
    }

    /// A service error from anything displayable.
    pub fn service(service: &str, err: impl std::fmt::Display) -> Self {
        PlatformError::Service {
            service: service.to_owned(),
            message: err.to_string(),
        }
    }
}

fn shown(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, PlatformError>;
