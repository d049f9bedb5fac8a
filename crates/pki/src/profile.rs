//! Certificate profiles: the extensions, validity and serial of every certificate
//! certfleet makes.
//!
//! The rules: CA certificates carry Basic Constraints CA:TRUE (critical,
//! with a path length) and Key Usage keyCertSign + cRLSign (critical); leaves carry the
//! CN as a SAN, Key Usage (critical) suited to the key type, an extended key usage
//! (server, client or both, never critical), and CA:FALSE. Every certificate has a
//! 128-bit random serial, a subject key identifier and, when issued by a CA, an
//! authority key identifier. Nothing but Key Usage and Basic Constraints is critical.

use crate::error::{PkiError, Result};
use crate::keys::KeyAlgorithm;
use crate::names::San;
use crate::subject::SubjectAttributes;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
    SerialNumber,
};
use std::str::FromStr;
use time::{Duration, OffsetDateTime};

/// The validity, in days, of a leaf certificate when none is asked for: `cert issue`,
/// `csr sign`, the server's CA signing and domain issuance, and the platform model.
/// 365 days stays within what browsers and today's scanners accept for a leaf.
pub const DEFAULT_LEAF_DAYS: u32 = 365;

/// What a leaf certificate is for (`--usage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Usage {
    /// TLS server authentication (the default).
    #[default]
    Server,
    /// TLS client authentication.
    Client,
    /// Both, for services that accept and make connections.
    Both,
}

impl FromStr for Usage {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "server" => Ok(Usage::Server),
            "client" => Ok(Usage::Client),
            "both" => Ok(Usage::Both),
            other => Err(PkiError::Invalid(format!(
                "unknown usage '{other}'; expected server, client or both"
            ))),
        }
    }
}

impl Usage {
    fn purposes(self) -> Vec<ExtendedKeyUsagePurpose> {
        match self {
            Usage::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
            Usage::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
            Usage::Both => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        }
    }
}

/// How far back `not_before` is set, so a peer whose clock runs a little behind accepts
/// a certificate issued a moment ago.
const BACKDATE: Duration = Duration::minutes(5);

/// The validity window of a new certificate: from a few minutes ago for `days` days,
/// never past `cap` (the issuer's own expiry).
pub fn validity(
    days: u32,
    cap: Option<OffsetDateTime>,
) -> Result<(OffsetDateTime, OffsetDateTime)> {
    if days == 0 {
        return Err(PkiError::Invalid("--days must be at least 1".into()));
    }
    let now = now_whole_seconds()?;
    let not_after = capped(now + Duration::days(i64::from(days)), now, cap)?;
    Ok((now - BACKDATE, not_after))
}

/// The validity window of a certificate `seconds` long (short-lived ones included),
/// never past `cap`. It starts `BACKDATE` ago, or a tenth of the lifetime ago when
/// that is shorter, so a renewal two thirds into the window is still ahead.
pub fn validity_seconds(
    seconds: u32,
    cap: Option<OffsetDateTime>,
) -> Result<(OffsetDateTime, OffsetDateTime)> {
    if seconds == 0 {
        return Err(PkiError::Invalid(
            "the lifetime must be at least 1 second".into(),
        ));
    }
    let now = now_whole_seconds()?;
    let lifetime = Duration::seconds(i64::from(seconds));
    let not_after = capped(now + lifetime, now, cap)?;
    Ok((now - BACKDATE.min(lifetime / 10), not_after))
}

fn now_whole_seconds() -> Result<OffsetDateTime> {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|e| PkiError::Invalid(e.to_string()))
}

/// `not_after`, never past `cap`; refused when `cap` has passed.
fn capped(
    not_after: OffsetDateTime,
    now: OffsetDateTime,
    cap: Option<OffsetDateTime>,
) -> Result<OffsetDateTime> {
    match cap {
        Some(cap) if cap <= now => Err(PkiError::Invalid(format!(
            "the issuing CA expired on {cap}; renew the CA first"
        ))),
        Some(cap) => Ok(not_after.min(cap)),
        None => Ok(not_after),
    }
}

/// A fresh 128-bit random serial number.
pub fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| PkiError::Crypto("random source".into()))?;
    // A serial must be positive and non-zero; rcgen encodes the bytes as an unsigned
    // integer, and an all-zero draw is vanishingly unlikely but refused anyway.
    if bytes.iter().all(|b| *b == 0) {
        bytes[15] = 1;
    }
    Ok(SerialNumber::from_slice(&bytes))
}

/// Parameters for a CA certificate with the given path length constraint; its subject
/// is `subject`'s attributes and `cn`.
pub fn ca_params(
    cn: &str,
    subject: &SubjectAttributes,
    path_len: u8,
    window: (OffsetDateTime, OffsetDateTime),
) -> Result<CertificateParams> {
    if cn.trim().is_empty() {
        return Err(PkiError::Invalid("--cn must not be empty".into()));
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = subject.distinguished_name(cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = window.0;
    params.not_after = window.1;
    params.serial_number = Some(random_serial()?);
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// Parameters for a leaf certificate with subject `subject` and `cn`. `sans` must
/// already contain the CN.
pub fn leaf_params(
    cn: &str,
    subject: &SubjectAttributes,
    sans: &[San],
    usage: Usage,
    key: KeyAlgorithm,
    window: (OffsetDateTime, OffsetDateTime),
) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject.distinguished_name(cn);
    params.subject_alt_names = sans.iter().map(San::to_rcgen).collect::<Result<_>>()?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = leaf_key_usages(key);
    params.extended_key_usages = usage.purposes();
    params.not_before = window.0;
    params.not_after = window.1;
    params.serial_number = Some(random_serial()?);
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// Key usages for a leaf: digitalSignature, plus keyEncipherment for RSA keys (TLS 1.2
/// RSA key exchange).
pub fn leaf_key_usages(key: KeyAlgorithm) -> Vec<KeyUsagePurpose> {
    if key.is_rsa() {
        vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ]
    } else {
        vec![KeyUsagePurpose::DigitalSignature]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_is_capped_by_the_issuer() {
        let cap = OffsetDateTime::now_utc() + Duration::days(10);
        let (from, to) = validity(397, Some(cap)).unwrap();
        assert!(to <= cap);
        assert!(from < OffsetDateTime::now_utc());
        assert!(validity(0, None).is_err());
        assert!(validity(1, Some(OffsetDateTime::now_utc() - Duration::days(1))).is_err());
        let (from, to) = validity_seconds(60, None).unwrap();
        assert_eq!((to - from).whole_seconds(), 66);
        let (from, to) = validity_seconds(86_400, Some(cap)).unwrap();
        assert_eq!((to - from).whole_seconds(), 86_400 + 300);
        assert!(validity_seconds(0, None).is_err());
    }

    #[test]
    fn serials_are_sixteen_random_bytes() {
        let a = random_serial().unwrap();
        let b = random_serial().unwrap();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
    }
}
