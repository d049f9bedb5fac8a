//! The error type of the ACME crate.

/// Why an ACME operation failed. Messages never carry key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcmeError {
    /// The ACME server refused or could not be reached (retried later with back-off).
    #[error("ACME server: {0}")]
    Server(String),
    /// An authorization or order ended invalid (the server's reason is in the text).
    #[error("{0}")]
    Invalid(String),
    /// The store could not be read or written.
    #[error("store: {0}")]
    Store(#[from] certfleet_store::StoreError),
    /// Making a key, CSR or challenge certificate failed.
    #[error("{0}")]
    Pki(String),
    /// Settings that cannot work (a CA bundle that does not load, a bad address).
    #[error("{0}")]
    Config(String),
}

impl From<instant_acme::Error> for AcmeError {
    fn from(err: instant_acme::Error) -> Self {
        AcmeError::Server(err.to_string())
    }
}

impl From<certfleet_pki::PkiError> for AcmeError {
    fn from(err: certfleet_pki::PkiError) -> Self {
        AcmeError::Pki(err.to_string())
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, AcmeError>;

impl From<certfleet_secrets::SecretError> for AcmeError {
    fn from(err: certfleet_secrets::SecretError) -> Self {
        AcmeError::Store(err.into())
    }
}
