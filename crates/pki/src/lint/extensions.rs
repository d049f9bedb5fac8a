//! Extension checks: criticality, CA flags and key usages, extended key usage.
//!
//! Criticality: only Key Usage and Basic Constraints may be critical (a peer that does
//! not process a critical extension must refuse the certificate, and several do). The
//! exceptions are the cases where RFC 5280 itself requires the extension to be critical,
//! which are notices (`critical-extension-required`), not errors:
//! - Subject Alternative Name when the subject is empty (RFC 5280 4.2.1.6);
//! - Name Constraints, Policy Constraints and Inhibit anyPolicy on a CA certificate
//!   (4.2.1.10, 4.2.1.11, 4.2.1.14).

use super::chain::issuer_slot;
use super::codes;
use super::{Cert, Finding, Severity};
use x509_parser::extensions::X509Extension;
use x509_parser::objects::{oid2description, oid2sn, oid_registry};

const KEY_USAGE: &str = "2.5.29.15";
const BASIC_CONSTRAINTS: &str = "2.5.29.19";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";
const CA_ONLY_CRITICAL: [&str; 3] = ["2.5.29.30", "2.5.29.36", "2.5.29.54"];

/// `Extended Key Usage (extendedKeyUsage, 2.5.29.37)`, or the OID alone when unknown.
fn describe(ext: &X509Extension<'_>) -> (String, String) {
    let oid = ext.oid.to_id_string();
    let registry = oid_registry();
    let long = oid2description(&ext.oid, registry)
        .map(|d| d.trim_start_matches("X509v3 ").to_string())
        .unwrap_or_else(|_| "an unknown extension".into());
    let short = oid2sn(&ext.oid, registry)
        .unwrap_or("the extension")
        .to_string();
    (format!("{long} ({oid})"), short)
}

/// The extension checks of one certificate; `certs` is the whole file, for the
/// `issuer-not-ca` check.
pub(crate) fn check(cert: &Cert<'_>, certs: &[Cert<'_>]) -> Vec<Finding> {
    let mut findings = critical(cert);
    let x509 = &cert.x509;
    if cert.is_ca && !cert.end_entity {
        if let Ok(Some(ku)) = x509.key_usage() {
            if !ku.value.key_cert_sign() {
                findings.push(Finding::new(
                    codes::CA_WITHOUT_KEY_CERT_SIGN,
                    Severity::Error,
                    Some(cert.index),
                    format!(
                        "{} is a CA certificate whose Key Usage ({}) lacks keyCertSign; clients refuse every certificate it signs",
                        cert.label(),
                        ku.value
                    ),
                    "Reissue the CA certificate with `keyUsage = critical, keyCertSign, cRLSign` (what `certfleet ca init` writes), then re-sign or re-chain what it issued.",
                ));
            }
        }
    }
    if !cert.is_ca {
        let children: Vec<&Cert<'_>> = (0..certs.len())
            .filter(|&s| issuer_slot(certs, s).is_some_and(|p| certs[p].index == cert.index))
            .map(|s| &certs[s])
            .collect();
        if let Some(child) = children.first() {
            findings.push(Finding::new(
                codes::ISSUER_NOT_CA,
                Severity::Error,
                Some(cert.index),
                format!(
                    "{} issued {} but is not a CA certificate (Basic Constraints CA:TRUE missing); clients refuse any chain through it",
                    cert.label(),
                    child.label()
                ),
                "Sign certificates only with a CA certificate (`certfleet ca init`, or openssl with `basicConstraints = critical, CA:TRUE`); what this certificate signed must be reissued by a real CA.",
            ));
        }
    }
    if cert.end_entity {
        if cert.is_ca {
            findings.push(Finding::new(
                codes::LEAF_IS_CA,
                Severity::Warning,
                Some(cert.index),
                format!(
                    "{} is used as a server or client certificate but is marked CA:TRUE; Firefox refuses it (MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY) and a leaked key could sign other certificates",
                    cert.label()
                ),
                "Reissue it with `basicConstraints = CA:FALSE` (`openssl req -x509` writes CA:TRUE unless given `-addext basicConstraints=critical,CA:FALSE`), or use `certfleet cert issue --self-signed`.",
            ));
        }
        findings.extend(eku(cert));
    }
    findings
}

fn critical(cert: &Cert<'_>) -> Vec<Finding> {
    let subject_empty = cert.x509.subject().iter().next().is_none();
    cert.x509
        .extensions()
        .iter()
        .filter(|ext| ext.critical)
        .filter_map(|ext| {
            let oid = ext.oid.to_id_string();
            if oid == KEY_USAGE || oid == BASIC_CONSTRAINTS {
                return None;
            }
            let (name, short) = describe(ext);
            let required = if oid == SUBJECT_ALT_NAME && subject_empty {
                Some("RFC 5280 requires it to be critical when the subject is empty")
            } else if cert.is_ca && CA_ONLY_CRITICAL.contains(&oid.as_str()) {
                Some("RFC 5280 requires it to be critical on a CA certificate")
            } else {
                None
            };
            Some(match required {
                Some(why) => Finding::new(
                    codes::CRITICAL_EXTENSION_REQUIRED,
                    Severity::Notice,
                    Some(cert.index),
                    format!("{} marks {name} critical; {why}", cert.label()),
                    "Nothing to fix; if a legacy peer refuses it, give that peer a certificate with a subject and a non-critical SAN.",
                ),
                None => Finding::new(
                    codes::CRITICAL_EXTENSION,
                    Severity::Error,
                    Some(cert.index),
                    format!(
                        "{} marks {name} critical; only Key Usage and Basic Constraints should be, as a peer that does not process a critical extension must refuse the certificate",
                        cert.label()
                    ),
                    format!(
                        "Reissue it with {short} not critical: with openssl, remove `critical,` from the `{short} = ...` line of the extension section; on a Windows CA, clear 'Make this extension critical' in the template. certfleet never marks it critical."
                    ),
                ),
            })
        })
        .collect()
}

fn eku(cert: &Cert<'_>) -> Option<Finding> {
    let hint = "Reissue it with extendedKeyUsage serverAuth for a server, clientAuth for a client, or both (`certfleet cert issue --usage server|client|both`; openssl: `extendedKeyUsage = serverAuth, clientAuth`).";
    match cert.x509.extended_key_usage() {
        Ok(None) => Some(Finding::new(
            codes::EKU_MISSING,
            Severity::Notice,
            Some(cert.index),
            format!(
                "{} has no extended key usage; most peers then allow any use, but stricter ones look for serverAuth or clientAuth",
                cert.label()
            ),
            hint,
        )),
        Ok(Some(eku)) if !(eku.value.server_auth || eku.value.client_auth || eku.value.any) => {
            Some(Finding::new(
                codes::EKU_NOT_TLS,
                Severity::Warning,
                Some(cert.index),
                format!(
                    "{} has an extended key usage that allows neither serverAuth nor clientAuth; TLS peers refuse it",
                    cert.label()
                ),
                hint,
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{
        codes_of, leaf_params, lint_certs, self_signed, self_signed_with, signed_by,
    };
    use super::*;
    use crate::keys::{KeyAlgorithm, PrivateKey};
    use rcgen::{BasicConstraints, CustomExtension, DnType, IsCa, KeyUsagePurpose};

    /// DER of an ExtendedKeyUsage holding serverAuth.
    const EKU_SERVER_AUTH: [u8; 12] = [
        0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
    ];

    #[test]
    fn a_critical_eku_is_an_error_naming_the_extension() {
        let mut params = leaf_params("web.example.test");
        params.extended_key_usages.clear();
        let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], EKU_SERVER_AUTH.to_vec());
        ext.set_criticality(true);
        params.custom_extensions.push(ext);
        let findings = lint_certs(vec![self_signed(params)]);
        assert_eq!(
            codes_of(&findings),
            [(codes::CRITICAL_EXTENSION, Severity::Error)]
        );
        assert!(
            findings[0]
                .message
                .contains("Extended Key Usage (2.5.29.37)"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[0].hint.contains("extendedKeyUsage"),
            "{}",
            findings[0].hint
        );
    }

    #[test]
    fn a_critical_san_with_an_empty_subject_is_a_notice() {
        let mut params = leaf_params("web.example.test");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.subject_alt_names.clear();
        // SAN with dNSName "a.test": GeneralNames SEQUENCE { [2] "a.test" }.
        let san = vec![0x30, 0x08, 0x82, 0x06, b'a', b'.', b't', b'e', b's', b't'];
        let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 17], san);
        ext.set_criticality(true);
        params.custom_extensions.push(ext);
        let findings = lint_certs(vec![self_signed(params)]);
        assert_eq!(
            codes_of(&findings),
            [(codes::CRITICAL_EXTENSION_REQUIRED, Severity::Notice)]
        );
    }

    #[test]
    fn a_self_signed_ca_true_server_certificate_is_a_leaf_marked_ca() {
        let mut params = leaf_params("web.example.test");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let findings = lint_certs(vec![self_signed(params)]);
        assert_eq!(
            codes_of(&findings),
            [(codes::LEAF_IS_CA, Severity::Warning)]
        );
    }

    #[test]
    fn a_ca_without_key_cert_sign_and_eku_problems() {
        let mut ca = rcgen::CertificateParams::new(vec![]).unwrap();
        ca.distinguished_name = rcgen::DistinguishedName::new();
        ca.distinguished_name.push(DnType::CommonName, "Root");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::CrlSign];
        let ca_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let ca_cert = self_signed_with(ca.clone(), &ca_key);
        let leaf_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let leaf = signed_by(leaf_params("web.example.test"), &leaf_key, &ca, &ca_key);
        let findings = lint_certs(vec![leaf, ca_cert]);
        assert_eq!(
            codes_of(&findings),
            [(codes::CA_WITHOUT_KEY_CERT_SIGN, Severity::Error)]
        );

        let mut leaf = leaf_params("web.example.test");
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
        let findings = lint_certs(vec![self_signed(leaf)]);
        assert_eq!(
            codes_of(&findings),
            [(codes::EKU_NOT_TLS, Severity::Warning)]
        );
        let mut leaf = leaf_params("web.example.test");
        leaf.extended_key_usages.clear();
        let findings = lint_certs(vec![self_signed(leaf)]);
        assert_eq!(
            codes_of(&findings),
            [(codes::EKU_MISSING, Severity::Notice)]
        );
    }
}
