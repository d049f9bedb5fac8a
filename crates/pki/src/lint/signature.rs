//! Signature checks: weak signature algorithms, and whether each certificate's signature
//! verifies with the key of its issuer when the issuer is in the file.
//!
//! SHA-1 and MD5/MD2 signatures are errors, except on a self-signed root, whose own
//! signature clients never check (a notice there). Verification uses x509-parser with
//! aws-lc-rs, which refuses RSA keys below 2048 bits for SHA-2 digests; for such
//! issuers the signature is checked with the `rsa` crate instead. What neither can
//! check (MD5, DSA, odd curves) is reported as `signature-not-checked`, a notice.

use super::chain::issuer_slot;
use super::codes;
use super::{Cert, Finding, Severity};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::Pkcs1v15Sign;
use sha2::Digest;
use x509_parser::error::X509Error;
use x509_parser::public_key::PublicKey;
use x509_parser::signature_algorithm::SignatureAlgorithm;

const SHA1_RSA: &str = "1.2.840.113549.1.1.5";
const SHA256_RSA: &str = "1.2.840.113549.1.1.11";
const SHA384_RSA: &str = "1.2.840.113549.1.1.12";
const SHA512_RSA: &str = "1.2.840.113549.1.1.13";
const RSA_PSS: &str = "1.2.840.113549.1.1.10";
const SHA1_HASH: &str = "1.3.14.3.2.26";

/// The hash a signature algorithm uses when it is a broken one.
fn weak_hash(cert: &Cert<'_>) -> Option<(&'static str, &'static str)> {
    let alg = &cert.x509.signature_algorithm;
    match alg.algorithm.to_id_string().as_str() {
        SHA1_RSA | "1.3.14.3.2.29" => Some(("SHA-1", "sha1WithRSAEncryption")),
        "1.2.840.10045.4.1" => Some(("SHA-1", "ecdsa-with-SHA1")),
        "1.2.840.10040.4.3" => Some(("SHA-1", "dsa-with-SHA1")),
        "1.2.840.113549.1.1.4" => Some(("MD5", "md5WithRSAEncryption")),
        "1.2.840.113549.1.1.2" => Some(("MD2", "md2WithRSAEncryption")),
        "1.2.840.113549.1.1.3" => Some(("MD4", "md4WithRSAEncryption")),
        RSA_PSS => match SignatureAlgorithm::try_from(alg) {
            Ok(SignatureAlgorithm::RSASSA_PSS(params))
                if params.hash_algorithm_oid().to_id_string() == SHA1_HASH =>
            {
                Some(("SHA-1", "RSASSA-PSS with SHA-1"))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The `sha1-signature` / `md5-signature` check of one certificate.
pub(crate) fn algorithm(cert: &Cert<'_>) -> Option<Finding> {
    let (hash, name) = weak_hash(cert)?;
    let code = if hash == "SHA-1" {
        codes::SHA1_SIGNATURE
    } else {
        codes::MD5_SIGNATURE
    };
    Some(if cert.is_root() {
        Finding::new(
            code,
            Severity::Notice,
            Some(cert.index),
            format!(
                "{} is a self-signed root signed with {hash} ({name}); clients do not check a root's own signature, so nothing breaks today",
                cert.label()
            ),
            "Replace the root with one signed with SHA-256 at its next renewal; some policies and scanners reject weak hashes anywhere.",
        )
    } else {
        Finding::new(
            code,
            Severity::Error,
            Some(cert.index),
            format!(
                "{} is signed with {hash} ({name}); browsers and current TLS libraries refuse such signatures because collisions can be forged",
                cert.label()
            ),
            "Have the CA sign it again with SHA-256 (e.g. `openssl x509 -req ... -sha256` or `openssl ca -md sha256`); certificates certfleet issues always use SHA-256 or better.",
        )
    })
}

enum Verdict {
    Valid,
    Invalid,
    Unchecked(String),
}

/// Verifies every certificate whose issuer is in the file.
pub(crate) fn verify_links(certs: &[Cert<'_>]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for slot in 0..certs.len() {
        let Some(parent_slot) = issuer_slot(certs, slot) else {
            continue;
        };
        let (child, parent) = (&certs[slot], &certs[parent_slot]);
        match verify(child, parent) {
            Verdict::Valid => {}
            Verdict::Invalid => findings.push(Finding::new(
                codes::SIGNATURE_INVALID,
                Severity::Error,
                Some(child.index),
                format!(
                    "{} names {} as its issuer but its signature does not verify with that certificate's key: a wrong or re-keyed issuer certificate, or a damaged certificate",
                    child.label(),
                    parent.label()
                ),
                format!(
                    "Get from the CA the issuer certificate that really signed it (its Subject Key Identifier equals the Authority Key Identifier shown by `openssl x509 -noout -text`) and put it in place of {}.",
                    parent.label()
                ),
            )),
            Verdict::Unchecked(reason) => findings.push(Finding::new(
                codes::SIGNATURE_NOT_CHECKED,
                Severity::Notice,
                Some(child.index),
                format!(
                    "the signature of {} by {} could not be checked: {reason}",
                    child.label(),
                    parent.label()
                ),
                "Check it with `openssl verify -partial_chain -CAfile ISSUER.pem CERT.pem`; a certificate whose signature algorithm certfleet cannot check is likely refused by modern peers too.",
            )),
        }
    }
    findings
}

fn verify(child: &Cert<'_>, parent: &Cert<'_>) -> Verdict {
    let spki = parent.x509.public_key();
    match child.x509.verify_signature(Some(spki)) {
        Ok(()) => Verdict::Valid,
        Err(X509Error::SignatureVerificationError) => match spki.parsed() {
            Ok(PublicKey::RSA(_)) => verify_small_rsa(child, parent),
            _ => Verdict::Invalid,
        },
        Err(_) => Verdict::Unchecked(format!(
            "the signature algorithm {} is not supported",
            child.x509.signature_algorithm.algorithm.to_id_string()
        )),
    }
}

/// aws-lc-rs refuses RSA keys below 2048 bits (1024 with SHA-1); check PKCS#1 v1.5
/// signatures of such keys with the `rsa` crate. Keys it accepted and refused stay
/// refused.
fn verify_small_rsa(child: &Cert<'_>, parent: &Cert<'_>) -> Verdict {
    let Ok(key) =
        rsa::RsaPublicKey::from_pkcs1_der(&parent.x509.public_key().subject_public_key.data)
    else {
        return Verdict::Invalid;
    };
    let bits = rsa::traits::PublicKeyParts::n(&key).bits();
    let algorithm = child.x509.signature_algorithm.algorithm.to_id_string();
    let refused_by_aws = match algorithm.as_str() {
        SHA1_RSA => bits < 1024,
        _ => bits < 2048,
    };
    if !refused_by_aws {
        return Verdict::Invalid;
    }
    let tbs = child.x509.tbs_certificate.as_ref();
    let (scheme, hashed) = match algorithm.as_str() {
        SHA256_RSA => (
            Pkcs1v15Sign::new::<sha2::Sha256>(),
            sha2::Sha256::digest(tbs).to_vec(),
        ),
        SHA384_RSA => (
            Pkcs1v15Sign::new::<sha2::Sha384>(),
            sha2::Sha384::digest(tbs).to_vec(),
        ),
        SHA512_RSA => (
            Pkcs1v15Sign::new::<sha2::Sha512>(),
            sha2::Sha512::digest(tbs).to_vec(),
        ),
        _ => {
            return Verdict::Unchecked(format!(
                "the issuer's RSA key has only {bits} bits and the algorithm is {algorithm}"
            ))
        }
    };
    match key.verify(scheme, &hashed, &child.x509.signature_value.data) {
        Ok(()) => Verdict::Valid,
        Err(_) => Verdict::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{codes_of, leaf_params, lint_certs, signed_by};
    use super::*;
    use crate::keys::{KeyAlgorithm, PrivateKey};
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyUsagePurpose};

    fn ca_params(cn: &str) -> CertificateParams {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
    }

    #[test]
    fn a_leaf_signed_by_a_1024_bit_root_verifies_with_the_fallback() {
        let root_key = PrivateKey::generate(KeyAlgorithm::Rsa1024).unwrap();
        let root_params = ca_params("Weak Root");
        let root = root_params.self_signed(&root_key).unwrap().der().clone();
        let leaf_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let leaf = signed_by(
            leaf_params("web.example.test"),
            &leaf_key,
            &root_params,
            &root_key,
        );
        let findings = lint_certs(vec![leaf.clone(), root.clone()]);
        let codes = codes_of(&findings);
        assert!(
            codes.contains(&(codes::WEAK_RSA_KEY, Severity::Error)),
            "{findings:#?}"
        );
        assert!(
            !codes.iter().any(|(c, _)| c.starts_with("signature-")),
            "{findings:#?}"
        );

        // The same names, but another key: the leaf does not verify with it.
        let impostor_key = PrivateKey::generate(KeyAlgorithm::Rsa1024).unwrap();
        let impostor = ca_params("Weak Root")
            .self_signed(&impostor_key)
            .unwrap()
            .der()
            .clone();
        let findings = lint_certs(vec![leaf, impostor]);
        assert!(
            codes_of(&findings).contains(&(codes::SIGNATURE_INVALID, Severity::Error)),
            "{findings:#?}"
        );
    }

    #[test]
    fn a_leaf_signed_by_another_p256_key_is_invalid() {
        let ca_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let params = ca_params("Root");
        let leaf_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let leaf = signed_by(leaf_params("web.example.test"), &leaf_key, &params, &ca_key);
        let other_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let other_root = params.self_signed(&other_key).unwrap().der().clone();
        let findings = lint_certs(vec![leaf, other_root]);
        assert!(codes_of(&findings).contains(&(codes::SIGNATURE_INVALID, Severity::Error)));
    }
}
