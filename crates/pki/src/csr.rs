//! Certificate signing requests: making one, reading one, and signing one under a policy.

use crate::authority::Authority;
use crate::error::{PkiError, Result};
use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::names::{san_set, San};
use crate::profile::{self, Usage};
use crate::subject::SubjectAttributes;
use certfleet_formats::pem;
use rcgen::CertificateParams;
use rustls_pki_types::CertificateDer;
use std::net::IpAddr;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

/// A new key and the CSR for it.
#[derive(Debug)]
pub struct NewCsr {
    /// The private key, which never leaves the requester.
    pub key: PrivateKey,
    /// The DER CSR.
    pub csr_der: Vec<u8>,
}

/// Makes a key and a CSR with subject CN and, unless `no_san`, the SAN set (CN first).
/// With `no_san` the CSR has no extension at all, so the CA chooses the names.
pub fn new_csr(
    cn: &str,
    dns_names: &[String],
    ips: &[IpAddr],
    no_san: bool,
    algorithm: KeyAlgorithm,
) -> Result<NewCsr> {
    new_csr_with_subject(
        cn,
        &SubjectAttributes::default(),
        dns_names,
        ips,
        no_san,
        algorithm,
    )
}

/// Like [`new_csr`], with `subject`'s attributes (O, OU, ...) before the CN.
pub fn new_csr_with_subject(
    cn: &str,
    subject: &SubjectAttributes,
    dns_names: &[String],
    ips: &[IpAddr],
    no_san: bool,
    algorithm: KeyAlgorithm,
) -> Result<NewCsr> {
    if no_san && (!dns_names.is_empty() || !ips.is_empty()) {
        return Err(PkiError::Invalid(
            "--no-san cannot be combined with --san or --ip".into(),
        ));
    }
    if cn.trim().is_empty() {
        return Err(PkiError::Invalid("--cn must not be empty".into()));
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = subject.checked()?.distinguished_name(cn);
    if !no_san {
        params.subject_alt_names = san_set(cn, dns_names, ips)?
            .iter()
            .map(San::to_rcgen)
            .collect::<Result<_>>()?;
    }
    let key = PrivateKey::generate(algorithm)?;
    let csr = params.serialize_request(&key)?;
    Ok(NewCsr {
        key,
        csr_der: csr.der().to_vec(),
    })
}

/// A DER CSR with subject `subject` and CN and the SAN set (CN first) for a key the
/// caller already has, so a renewal request keeps the key that is deployed.
pub fn csr_for_key(
    cn: &str,
    subject: &SubjectAttributes,
    dns_names: &[String],
    ips: &[IpAddr],
    key: &PrivateKey,
) -> Result<Vec<u8>> {
    if cn.trim().is_empty() {
        return Err(PkiError::Invalid("the CN must not be empty".into()));
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = subject.checked()?.distinguished_name(cn);
    params.subject_alt_names = san_set(cn, dns_names, ips)?
        .iter()
        .map(San::to_rcgen)
        .collect::<Result<_>>()?;
    Ok(params.serialize_request(key)?.der().to_vec())
}

/// What a CSR asks for, read from its bytes (PEM or DER) with its signature checked.
#[derive(Debug, Clone)]
pub struct CsrInfo {
    /// The DER CSR.
    pub der: Vec<u8>,
    /// The subject CN, if any.
    pub cn: Option<String>,
    /// The subject as text.
    pub subject: String,
    /// The subject's attributes beside the CN (O, OU, L, ST, C).
    pub attributes: SubjectAttributes,
    /// The requested SANs; `None` when the CSR has no SAN extension at all.
    pub sans: Option<Vec<San>>,
    /// The DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    /// The public key bits inside the SPKI.
    pub public_key: Vec<u8>,
    /// True when the key is RSA.
    pub is_rsa: bool,
}

/// Reads a CSR from PEM (`CERTIFICATE REQUEST`) or DER and checks its self-signature.
pub fn read_csr(bytes: &[u8]) -> Result<CsrInfo> {
    let (info, signature_valid) = parse_csr(bytes)?;
    if !signature_valid {
        return Err(PkiError::Invalid(
            "the CSR's signature does not verify with its own public key".into(),
        ));
    }
    Ok(info)
}

/// Reads a CSR like [`read_csr`] without refusing a bad self-signature: the answer says
/// whether the signature verifies (for describing a CSR before signing it).
pub fn parse_csr(bytes: &[u8]) -> Result<(CsrInfo, bool)> {
    let der = if pem::looks_like_pem(bytes) {
        let text = String::from_utf8_lossy(bytes);
        pem::decode_blocks(&text)?
            .into_iter()
            .find(|b| b.label == "CERTIFICATE REQUEST" || b.label == "NEW CERTIFICATE REQUEST")
            .map(|b| b.der)
            .ok_or_else(|| PkiError::WrongKind("no CERTIFICATE REQUEST block found".into()))?
    } else {
        bytes.to_vec()
    };
    let (_, csr) = X509CertificationRequest::from_der(&der).map_err(|e| PkiError::Malformed {
        what: "CSR".into(),
        detail: e.to_string(),
    })?;
    let signature_valid = csr.verify_signature().is_ok();
    let info = &csr.certification_request_info;
    let cn = info
        .subject
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned);
    let sans = requested_sans(&csr)?;
    let spki = info.subject_pki.raw.to_vec();
    let public_key = info.subject_pki.subject_public_key.data.to_vec();
    let is_rsa =
        info.subject_pki.algorithm.algorithm == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
    let info = CsrInfo {
        subject: info.subject.to_string(),
        attributes: SubjectAttributes::from_name(&info.subject),
        der,
        cn,
        sans,
        spki,
        public_key,
        is_rsa,
    };
    Ok((info, signature_valid))
}

fn requested_sans(csr: &X509CertificationRequest<'_>) -> Result<Option<Vec<San>>> {
    let Some(extensions) = csr.requested_extensions() else {
        return Ok(None);
    };
    for ext in extensions {
        if let ParsedExtension::SubjectAlternativeName(san) = ext {
            return Ok(Some(general_names_to_sans(&san.general_names)));
        }
    }
    Ok(None)
}

/// Converts parsed general names to [`San`]s, keeping DNS names and IP addresses.
pub fn general_names_to_sans(names: &[GeneralName<'_>]) -> Vec<San> {
    names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(San::Dns(dns.to_ascii_lowercase())),
            GeneralName::IPAddress(bytes) => ip_from_bytes(bytes).map(San::Ip),
            _ => None,
        })
        .collect()
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// The rules a CA applies when signing a CSR.
#[derive(Debug, Clone, Default)]
pub struct SigningPolicy {
    /// DNS suffixes the names must fall under (`corp.example` allows `corp.example` and
    /// `*.corp.example` and anything below); empty allows any name.
    pub allowed_domains: Vec<String>,
    /// Longest validity the CA grants, in days; `None` for no limit but the CA's own.
    pub max_days: Option<u32>,
    /// Whether client-authentication certificates may be issued.
    pub deny_client: bool,
}

impl SigningPolicy {
    /// Every rule `sans`, `usage` and `days` break, as one policy error listing them all
    /// (separated by "; ").
    fn check(&self, sans: &[San], usage: Usage, days: u32) -> Result<()> {
        let mut reasons = Vec::new();
        if let Some(max) = self.max_days {
            if days > max {
                reasons.push(format!(
                    "{days} days asked, the policy allows at most {max}"
                ));
            }
        }
        if self.deny_client && usage != Usage::Server {
            reasons.push("client authentication is not allowed by this policy".to_owned());
        }
        if !self.allowed_domains.is_empty() {
            for san in sans {
                if let San::Dns(name) = san {
                    let bare = name.strip_prefix("*.").unwrap_or(name);
                    let ok = self.allowed_domains.iter().any(|domain| {
                        let domain = domain.to_ascii_lowercase();
                        bare == domain || bare.ends_with(&format!(".{domain}"))
                    });
                    if !ok {
                        reasons.push(format!(
                            "DNS:{name} is outside the allowed domains ({})",
                            self.allowed_domains.join(", ")
                        ));
                    }
                }
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(PkiError::Policy(reasons.join("; ")))
        }
    }
}

/// Signs `csr` with `authority`. The certificate carries the CSR's subject (CN and the
/// attributes C, ST, L, O, OU) and SANs;
/// a CSR without a SAN extension gets its CN as the only SAN. A CSR whose SANs leave out
/// its CN is refused, since the certificate would then differ from the request.
pub fn sign_csr(
    authority: &Authority,
    csr: &CsrInfo,
    usage: Usage,
    days: u32,
    policy: &SigningPolicy,
) -> Result<CertificateDer<'static>> {
    let cn = csr
        .cn
        .clone()
        .ok_or_else(|| PkiError::Invalid("the CSR has no common name (CN)".into()))?;
    let cn_san = San::from_cn(&cn)?;
    let sans = match &csr.sans {
        None => vec![cn_san],
        Some(list) if list.contains(&cn_san) => list.clone(),
        Some(_) => {
            return Err(PkiError::Invalid(format!(
                "the CSR's CN '{cn}' is not among its SANs; browsers would reject the certificate. Make a new CSR that lists the CN as a SAN, or one with no SAN extension"
            )))
        }
    };
    policy.check(&sans, usage, days)?;
    let key_kind = if csr.is_rsa {
        KeyAlgorithm::Rsa2048
    } else {
        KeyAlgorithm::EcdsaP256
    };
    let window = profile::validity(days, Some(authority.not_after()))?;
    let params = profile::leaf_params(&cn, &csr.attributes, &sans, usage, key_kind, window)?;
    let public_key = rcgen::SubjectPublicKeyInfo::from_der(&csr.spki)?;
    let issuer = authority.issuer()?;
    Ok(params.signed_by(&public_key, &issuer)?.der().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::init_ca;

    fn authority() -> Authority {
        let ca = init_ca("Root", KeyAlgorithm::EcdsaP256, 60, None).unwrap();
        Authority::new(ca.root_cert, ca.root_key, vec![]).unwrap()
    }

    #[test]
    fn a_csr_without_sans_has_no_extension_and_gets_its_cn() {
        let new = new_csr("db.example.test", &[], &[], true, KeyAlgorithm::EcdsaP256).unwrap();
        let info = read_csr(&new.csr_der).unwrap();
        assert_eq!(info.sans, None);
        let cert = sign_csr(
            &authority(),
            &info,
            Usage::Server,
            30,
            &SigningPolicy::default(),
        )
        .unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert).unwrap();
        let sans = parsed.subject_alternative_name().unwrap().unwrap();
        assert_eq!(
            general_names_to_sans(&sans.value.general_names),
            vec![San::Dns("db.example.test".into())]
        );
    }

    #[test]
    fn policy_refuses_foreign_domains_and_long_validity() {
        let new = new_csr("db.other.test", &[], &[], false, KeyAlgorithm::EcdsaP256).unwrap();
        let info = read_csr(&new.csr_der).unwrap();
        let policy = SigningPolicy {
            allowed_domains: vec!["example.test".into()],
            max_days: Some(90),
            deny_client: false,
        };
        let err = sign_csr(&authority(), &info, Usage::Server, 30, &policy).unwrap_err();
        assert!(err.to_string().contains("outside the allowed domains"));
        let err = sign_csr(&authority(), &info, Usage::Server, 365, &policy).unwrap_err();
        assert!(err.to_string().contains("at most 90"));
        assert!(
            err.to_string().contains("outside the allowed domains"),
            "every reason is listed: {err}"
        );
    }

    #[test]
    fn a_csr_with_a_broken_signature_is_described_but_not_read() {
        let new = new_csr("db.example.test", &[], &[], true, KeyAlgorithm::EcdsaP256).unwrap();
        let mut der = new.csr_der.clone();
        let last = der.len() - 1;
        der[last] ^= 0x01;
        let (info, valid) = parse_csr(&der).unwrap();
        assert!(!valid);
        assert_eq!(info.cn.as_deref(), Some("db.example.test"));
        assert!(read_csr(&der)
            .unwrap_err()
            .to_string()
            .contains("signature"));
        assert!(parse_csr(&new.csr_der).unwrap().1);
    }
}
