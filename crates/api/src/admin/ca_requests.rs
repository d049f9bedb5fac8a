//! The requests of the CA endpoints: making a CA (`POST /api/cas`), signing a CSR
//! (`POST /api/cas/{name}/sign`) and issuing a domain's certificate from a CA
//! (`POST /api/domains/{name}/certificate/issue`), with the key, usage and subject
//! choices they share. The server reads them; the command line sends them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A key algorithm the API offers (RSA below 2048 bits is not offered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl KeyJson {
    /// Every choice, as the API spells it.
    pub const NAMES: [&'static str; 6] = [
        "ecdsa-p256",
        "ecdsa-p384",
        "ed25519",
        "rsa2048",
        "rsa3072",
        "rsa4096",
    ];

    /// The choice spelled `name` (`ecdsa-p256`, `rsa2048`, ...); the error lists them.
    pub fn from_name(name: &str) -> Result<KeyJson, String> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|_| {
            format!(
                "'{name}' is not a key algorithm the server offers: use one of {}",
                Self::NAMES.join(", ")
            )
        })
    }
}

/// What a signed certificate is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

/// Subject attributes written before a CA's common name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectJson {
    /// Country (C): two letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// State or province (ST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Locality (L).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// Organization (O).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Organizational unit (OU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_unit: Option<String>,
}

/// `POST /api/cas`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCa {
    /// The CA's name: one DNS label (a-z, 0-9, '-').
    #[schema(min_length = 1, max_length = 63)]
    pub name: String,
    /// The root's common name.
    #[schema(min_length = 1, max_length = 64)]
    pub cn: String,
    /// The keys' algorithm; ecdsa-p256 when absent.
    #[serde(default)]
    pub key: KeyJson,
    /// Validity of the root (and intermediate) in days.
    #[schema(minimum = 1, maximum = 36500)]
    pub days: u32,
    /// With it, an issuing intermediate of that common name signs instead of the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intermediate_cn: Option<String>,
    /// Subject attributes (C, ST, L, O, OU) of the root and the intermediate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectJson>,
    /// The signing rules; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<super::cas::PolicyJson>,
}

/// `POST /api/cas/{name}/sign`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignCsr {
    /// The CSR, PEM (`CERTIFICATE REQUEST`).
    #[schema(min_length = 1)]
    pub csr: String,
    /// server (the default), client or both.
    #[serde(default)]
    pub usage: UsageJson,
    /// Validity in days (365 when absent), capped at the CA's expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 36500)]
    pub days: Option<u32>,
}

/// The shortest lifetime a domain's certificate may be issued for, in seconds.
pub const MIN_LIFETIME_SECONDS: u32 = 60;

/// `POST /api/domains/{name}/certificate/issue`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueFromCa {
    /// The CA's name.
    #[schema(min_length = 1, max_length = 63)]
    pub ca: String,
    /// The new key's algorithm; ecdsa-p256 when absent.
    #[serde(default)]
    pub key: KeyJson,
    /// Validity in days (365 when neither this nor `seconds` is given), capped at the
    /// CA's expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 36500)]
    pub days: Option<u32>,
    /// Validity in seconds instead of days, for short-lived certificates (at least 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 60)]
    pub seconds: Option<u32>,
    /// server (the default), client or both.
    #[serde(default)]
    pub usage: UsageJson,
}
