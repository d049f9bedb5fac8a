//! The agent's errors: each names the file, configuration key or server it is about, and
//! none carries a key or a password.

use std::path::{Path, PathBuf};

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The agent's configuration is wrong.
    #[error("{}: {key}: {message}", file.display())]
    Config {
        /// The configuration file.
        file: PathBuf,
        /// The key (or `file` for the file as a whole).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read, written or understood.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an error.
    #[error("{server} refused: {message} (HTTP {status})")]
    Refused {
        /// The server's URL.
        server: String,
        /// The HTTP status.
        status: u16,
        /// The server's `error` text.
        message: String,
    },
    /// No answer from a server (connection, TLS, time-out, unreadable answer).
    #[error("{server}: {message}")]
    Unreachable {
        /// The server's URL.
        server: String,
        /// What went wrong.
        message: String,
    },
    /// The agent is not enrolled, or its enrolment files are incomplete.
    #[error("not enrolled: {0}")]
    NotEnrolled(String),
    /// Keys, certificates or CSRs could not be made or read.
    #[error("{0}")]
    Crypto(String),
}

impl AgentError {
    /// A file error from an I/O error.
    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        AgentError::File {
            path: path.to_path_buf(),
            message: err.to_string(),
        }
    }

    /// A file error with a message.
    pub fn file(path: &Path, message: impl std::fmt::Display) -> Self {
        AgentError::File {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    /// True when trying again later (or another server) may help: no answer, or a server
    /// error (5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            AgentError::Unreachable { .. } => true,
            AgentError::Refused { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// The agent's result type.
pub type Result<T> = std::result::Result<T, AgentError>;
