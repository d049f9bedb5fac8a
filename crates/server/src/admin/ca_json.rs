//! The request and answer types of the CA and CSR endpoints ([`super::cas`],
//! [`super::ca_sign`], [`super::csrs`], [`super::domain_issue`]; defined in
//! certfleet-api), the checks they share, and how a CA is shown: its certificates'
//! subjects, expiry and thumbprints, never a key.

pub use crate::cas::view::ca_json;
use crate::cas::CaError;
use crate::http::errors::ApiError;
pub use certfleet_api::admin::ca_requests::{KeyJson, SubjectJson, UsageJson};
pub use certfleet_api::admin::cas::{CaJson, PolicyJson};

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
