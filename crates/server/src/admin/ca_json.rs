//! The request and answer types of the CA and CSR endpoints ([`super::cas`],
//! [`super::ca_sign`], [`super::csrs`], [`super::domain_issue`]), and how a CA is shown:
//! its certificates' subjects, expiry and thumbprints, never a key.

pub use crate::cas::view::ca_json;
use crate::cas::CaError;
use crate::http::errors::ApiError;
pub use certfleet_api::admin::cas::{CaJson, PolicyJson};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;
use serde::Deserialize;
use utoipa::ToSchema;

/// A key algorithm the API offers (RSA below 2048 bits is not offered).
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
pub enum KeyJson {
    /// ECDSA P-256 (the default).
    #[default]
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
    /// ECDSA P-384.
    #[serde(rename = "ecdsa-p384")]
    EcdsaP384,
    /// Ed25519.
    #[serde(rename = "ed25519")]
    Ed25519,
    /// RSA 2048.
    #[serde(rename = "rsa2048")]
    Rsa2048,
    /// RSA 3072.
    #[serde(rename = "rsa3072")]
    Rsa3072,
    /// RSA 4096.
    #[serde(rename = "rsa4096")]
    Rsa4096,
}

impl From<KeyJson> for KeyAlgorithm {
    fn from(key: KeyJson) -> Self {
        match key {
            KeyJson::EcdsaP256 => KeyAlgorithm::EcdsaP256,
            KeyJson::EcdsaP384 => KeyAlgorithm::EcdsaP384,
            KeyJson::Ed25519 => KeyAlgorithm::Ed25519,
            KeyJson::Rsa2048 => KeyAlgorithm::Rsa2048,
            KeyJson::Rsa3072 => KeyAlgorithm::Rsa3072,
            KeyJson::Rsa4096 => KeyAlgorithm::Rsa4096,
        }
    }
}

/// What a signed certificate is for.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UsageJson {
    /// TLS server authentication (the default).
    #[default]
    Server,
    /// TLS client authentication.
    Client,
    /// Both.
    Both,
}

impl From<UsageJson> for Usage {
    fn from(usage: UsageJson) -> Self {
        match usage {
            UsageJson::Server => Usage::Server,
            UsageJson::Client => Usage::Client,
            UsageJson::Both => Usage::Both,
        }
    }
}

/// The longest validity anything is asked for, in days (100 years).
pub const MAX_DAYS: u32 = 36_500;

/// Checks a `days` field: 1 to [`MAX_DAYS`].
pub fn check_days(field: &str, days: u32) -> Result<u32, ApiError> {
    if days == 0 || days > MAX_DAYS {
        return Err(ApiError::bad_request(format!(
            "{field}: {days} is not between 1 and {MAX_DAYS}"
        )));
    }
    Ok(days)
}

impl From<CaError> for ApiError {
    fn from(err: CaError) -> Self {
        match err {
            CaError::BadName(message) => ApiError::bad_request(message),
            CaError::Exists(_) | CaError::Reserved(_) => ApiError::conflict(err.to_string()),
            CaError::Store(detail) => ApiError::internal(detail),
        }
    }
}

/// 404 for a CA that does not exist.
pub fn no_such_ca(name: &str) -> ApiError {
    ApiError::not_found(format!("no CA is named {name}"))
}
