//! What a configuration may hold but should not: found on the file as written (before
//! `CRYPT:` values are opened), reported by the server once its log is up. A warning
//! names the block and key, never the value.

use super::raw::RawConfig;
use certfleet_secrets::CRYPT_PREFIX;

/// The prefix of an argon2 hash, which `basic_auth_password` accepts in place of the
/// password.
pub(crate) const ARGON2_PREFIX: &str = "$argon2";

/// One line per questionable setting of `raw`.
pub(crate) fn config_warnings(raw: &RawConfig) -> Vec<String> {
    let mut warnings = Vec::new();
    for (index, route) in raw.route.iter().enumerate() {
        let Some(password) = route.basic_auth_password.as_deref() else {
            continue;
        };
        if !password.starts_with(CRYPT_PREFIX) && !password.starts_with(ARGON2_PREFIX) {
            warnings.push(format!(
                "[[route]] #{} (host {}) basic_auth_password: written in clear; store an argon2 hash ($argon2id$...) or a value sealed with `certfleet encrypt` (CRYPT:...) instead",
                index + 1,
                route.host
            ));
        }
    }
    warnings
}
