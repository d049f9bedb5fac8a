//! The facts an administrator reads off one certificate, as one serialisable record.

use super::fingerprint::{sha1_thumbprint, sha256_fingerprint};
use super::public_key::describe;
use crate::csr::general_names_to_sans;
use crate::error::{PkiError, Result};
use crate::names::San;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{ExtendedKeyUsage, KeyUsage, ParsedExtension};
use x509_parser::objects::{oid2sn, oid_registry};
use x509_parser::oid_registry::Oid;

/// One certificate described (the JSON object of `inspect --json`).
#[derive(Debug, Clone, Serialize)]
pub struct CertificateInfo {
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Serial number, upper-case hex.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days from now until `not_after` (negative once expired).
    pub days_remaining: i64,
    /// `DNS:name` and `IP:addr` entries.
    pub sans: Vec<String>,
    /// Key usage bits by name (`digitalSignature`, `keyCertSign`, ...).
    pub key_usage: Vec<String>,
    /// Extended key usages by name (`serverAuth`, `clientAuth`, ...).
    pub extended_key_usage: Vec<String>,
    /// Names of the extensions marked critical.
    pub critical_extensions: Vec<String>,
    /// Every extension with its criticality.
    pub extensions: Vec<ExtensionInfo>,
    /// Basic Constraints CA:TRUE.
    pub is_ca: bool,
    /// The path length constraint, when set.
    pub path_len: Option<u32>,
    /// `RSA`, `EC`, `Ed25519`, ...
    pub key_type: String,
    /// Key size in bits.
    pub key_bits: u32,
    /// The EC curve, when EC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    /// Signature algorithm name (e.g. `ecdsa-with-SHA256`).
    pub signature_algorithm: String,
    /// SHA-1 thumbprint, 40 upper-case hex digits.
    pub sha1_thumbprint: String,
    /// SHA-256 fingerprint, 64 upper-case hex digits.
    pub sha256_fingerprint: String,
    /// Subject key identifier, hex.
    pub subject_key_id: Option<String>,
    /// Authority key identifier, hex.
    pub authority_key_id: Option<String>,
    /// Issuer and subject names are equal.
    pub self_issued: bool,
}

/// One extension and whether it is critical.
#[derive(Debug, Clone, Serialize)]
pub struct ExtensionInfo {
    /// Short name (e.g. `keyUsage`) or the dotted OID.
    pub name: String,
    /// Dotted OID.
    pub oid: String,
    /// Marked critical.
    pub critical: bool,
}

/// The short name of an OID from the registry, or its dotted form.
pub fn oid_name(oid: &Oid<'_>) -> String {
    oid2sn(oid, oid_registry())
        .map(str::to_owned)
        .unwrap_or_else(|_| oid.to_id_string())
}

/// Formats a time as RFC 3339 (UTC).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Describes a DER certificate, with days remaining counted from `now`.
pub fn describe_certificate(der: &[u8], now: OffsetDateTime) -> Result<CertificateInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| PkiError::Malformed {
        what: "certificate".into(),
        detail: e.to_string(),
    })?;
    Ok(describe_parsed(&cert, der, now))
}

/// Describes an already parsed certificate whose DER is `der`.
pub fn describe_parsed(
    cert: &X509Certificate<'_>,
    der: &[u8],
    now: OffsetDateTime,
) -> CertificateInfo {
    let not_before = cert.validity().not_before.to_datetime();
    let not_after = cert.validity().not_after.to_datetime();
    let key = describe(cert.public_key());
    let mut info = CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: format!("{:X}", cert.serial),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        days_remaining: (not_after - now).whole_days(),
        sans: Vec::new(),
        key_usage: Vec::new(),
        extended_key_usage: Vec::new(),
        critical_extensions: Vec::new(),
        extensions: Vec::new(),
        is_ca: false,
        path_len: None,
        key_type: key.key_type,
        key_bits: key.key_bits,
        curve: key.curve,
        signature_algorithm: oid_name(&cert.signature_algorithm.algorithm),
        sha1_thumbprint: sha1_thumbprint(der),
        sha256_fingerprint: sha256_fingerprint(der),
        subject_key_id: None,
        authority_key_id: None,
        self_issued: cert.issuer().as_raw() == cert.subject().as_raw(),
    };
    for ext in cert.extensions() {
        let name = oid_name(&ext.oid);
        if ext.critical {
            info.critical_extensions.push(name.clone());
        }
        info.extensions.push(ExtensionInfo {
            name,
            oid: ext.oid.to_id_string(),
            critical: ext.critical,
        });
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                info.sans = general_names_to_sans(&san.general_names)
                    .iter()
                    .map(San::display)
                    .collect();
            }
            ParsedExtension::KeyUsage(ku) => info.key_usage = key_usage_names(ku),
            ParsedExtension::ExtendedKeyUsage(eku) => info.extended_key_usage = eku_names(eku),
            ParsedExtension::BasicConstraints(bc) => {
                info.is_ca = bc.ca;
                info.path_len = bc.path_len_constraint;
            }
            ParsedExtension::SubjectKeyIdentifier(id) => {
                info.subject_key_id = Some(hex::encode_upper(id.0));
            }
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                info.authority_key_id = aki
                    .key_identifier
                    .as_ref()
                    .map(|id| hex::encode_upper(id.0));
            }
            _ => {}
        }
    }
    info
}

fn key_usage_names(ku: &KeyUsage) -> Vec<String> {
    [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| name.to_owned())
    .collect()
}

/// The names of the usages in an extended key usage extension (`serverAuth`, ...).
pub(crate) fn eku_names(eku: &ExtendedKeyUsage<'_>) -> Vec<String> {
    let mut names: Vec<String> = [
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
        (eku.any, "anyExtendedKeyUsage"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| name.to_owned())
    .collect();
    names.extend(eku.other.iter().map(oid_name));
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::init_ca;
    use crate::keys::KeyAlgorithm;

    #[test]
    fn a_root_is_described_with_its_ca_extensions() {
        let ca = init_ca("Inspect Root", KeyAlgorithm::Rsa2048, 30, None).unwrap();
        let info = describe_certificate(&ca.root_cert, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(info.subject, "CN=Inspect Root");
        assert!(info.is_ca);
        assert_eq!(info.path_len, Some(0));
        assert_eq!(info.key_type, "RSA");
        assert_eq!(info.key_bits, 2048);
        assert_eq!(info.key_usage, ["keyCertSign", "cRLSign"]);
        let mut critical = info.critical_extensions.clone();
        critical.sort();
        assert_eq!(critical, ["basicConstraints", "keyUsage"]);
        assert!((29..=30).contains(&info.days_remaining));
        assert_eq!(info.sha1_thumbprint.len(), 40);
        assert!(info.self_issued);
    }
}
