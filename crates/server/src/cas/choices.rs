//! The API's key and usage choices ([`KeyJson`], [`UsageJson`], [`SubjectJson`]) as
//! certfleet-pki's types, for the CA endpoints and the renewals.

use certfleet_api::admin::ca_requests::{KeyJson, SubjectJson, UsageJson};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;
use certfleet_pki::subject::SubjectAttributes;

/// The key algorithm `key` names.
pub fn key_algorithm(key: KeyJson) -> KeyAlgorithm {
    match key {
        KeyJson::EcdsaP256 => KeyAlgorithm::EcdsaP256,
        KeyJson::EcdsaP384 => KeyAlgorithm::EcdsaP384,
        KeyJson::Ed25519 => KeyAlgorithm::Ed25519,
        KeyJson::Rsa2048 => KeyAlgorithm::Rsa2048,
        KeyJson::Rsa3072 => KeyAlgorithm::Rsa3072,
        KeyJson::Rsa4096 => KeyAlgorithm::Rsa4096,
    }
}

/// The usage `usage` names.
pub fn usage(usage: UsageJson) -> Usage {
    match usage {
        UsageJson::Server => Usage::Server,
        UsageJson::Client => Usage::Client,
        UsageJson::Both => Usage::Both,
    }
}

/// The subject attributes of `subject` (none when absent); checked where they are used.
pub fn subject_attributes(subject: Option<&SubjectJson>) -> SubjectAttributes {
    let subject = subject.cloned().unwrap_or_default();
    SubjectAttributes {
        country: subject.country,
        state: subject.state,
        locality: subject.locality,
        organization: subject.org,
        org_unit: subject.org_unit,
    }
}
