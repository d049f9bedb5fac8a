//! Key checks: the strength and type of each certificate's public key, and whether the
//! private key given belongs to the leaf.
//!
//! RSA below 2048 bits is an error (browsers, current Java and OpenSSL at its default
//! security level refuse it); elliptic curves other than P-256 and P-384 are a warning
//! (P-521 is refused by some browsers, others by nearly everyone); Ed25519/Ed448 is a
//! notice (fine between services, refused by browsers); DSA and unknown algorithms are
//! a warning.

use super::codes;
use super::{Cert, Finding, Severity};
use crate::keys::PrivateKey;
use rcgen::PublicKeyData;
use x509_parser::public_key::PublicKey;

const RSA: &str = "1.2.840.113549.1.1.1";
const RSA_PSS: &str = "1.2.840.113549.1.1.10";
const EC: &str = "1.2.840.10045.2.1";
const ED25519: &str = "1.3.101.112";
const ED448: &str = "1.3.101.113";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";

/// The slot of the certificate whose public key is `key`'s.
pub(crate) fn matching_slot(certs: &[Cert<'_>], key: &PrivateKey) -> Option<usize> {
    certs
        .iter()
        .position(|c| c.x509.public_key().subject_public_key.data.as_ref() == key.der_bytes())
}

/// The `key-mismatch` finding: the key belongs to no certificate of the file.
pub(crate) fn mismatch(leaf: &Cert<'_>, key: &PrivateKey) -> Finding {
    Finding::new(
        codes::KEY_MISMATCH,
        Severity::Error,
        Some(leaf.index),
        format!(
            "the private key ({}) does not belong to {} nor to any other certificate in the file; a service loading them fails to start or fails every handshake",
            key.algorithm(),
            leaf.label()
        ),
        "Put the key the certificate was issued for next to it: compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`; a renewed certificate goes with the key of its own CSR, not the old one.",
    )
}

/// Size in bits of a big-endian unsigned integer (leading zero bytes ignored).
pub(super) fn bit_length(bytes: &[u8]) -> usize {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    let top_bits = 8 - trimmed[0].leading_zeros() as usize;
    (trimmed.len() - 1) * 8 + top_bits
}

fn curve_name(oid: &str) -> &str {
    match oid {
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.3.132.0.33" => "P-224",
        "1.2.840.10045.3.1.1" => "P-192",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        other => other,
    }
}

/// The key strength and type checks of one certificate.
pub(crate) fn strength(cert: &Cert<'_>) -> Option<Finding> {
    let spki = cert.x509.public_key();
    let algorithm = spki.algorithm.algorithm.to_id_string();
    match algorithm.as_str() {
        RSA | RSA_PSS => {
            let bits = match spki.parsed() {
                Ok(PublicKey::RSA(rsa)) => bit_length(rsa.modulus),
                _ => 0,
            };
            (bits < 2048).then(|| {
                Finding::new(
                    codes::WEAK_RSA_KEY,
                    Severity::Error,
                    Some(cert.index),
                    format!(
                        "{} has a {bits}-bit RSA key; browsers, current Java and OpenSSL at its default security level refuse RSA keys below 2048 bits",
                        cert.label()
                    ),
                    "Reissue it with a new key of at least 2048 bits (`certfleet cert issue --key rsa2048`, or `--key ecdsa-p256`); keep a 1024-bit key only for a legacy peer that accepts nothing else (`--allow-weak`), and never on a CA.",
                )
            })
        }
        EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_else(|| "no named curve".into());
            (curve != P256 && curve != P384).then(|| {
                Finding::new(
                    codes::UNCOMMON_EC_CURVE,
                    Severity::Warning,
                    Some(cert.index),
                    format!(
                        "{} has an elliptic-curve key on {}; TLS peers reliably accept only P-256 and P-384",
                        cert.label(),
                        curve_name(&curve)
                    ),
                    "Reissue it with a P-256 or P-384 key (`certfleet cert issue --key ecdsa-p256`).",
                )
            })
        }
        ED25519 | ED448 => Some(Finding::new(
            codes::EDDSA_KEY,
            Severity::Notice,
            Some(cert.index),
            format!(
                "{} has an {} key; services built on OpenSSL, rustls or Go accept it, but browsers and Java before 15 do not",
                cert.label(),
                if algorithm == ED25519 { "Ed25519" } else { "Ed448" }
            ),
            "Keep it for service-to-service connections; for anything a browser or an older Java client connects to, use `--key ecdsa-p256`.",
        )),
        other => Some(Finding::new(
            codes::UNSUPPORTED_KEY_ALGORITHM,
            Severity::Warning,
            Some(cert.index),
            format!(
                "{} has a key of algorithm {} ({}), which TLS peers do not accept",
                cert.label(),
                if other == "1.2.840.10040.4.1" { "DSA" } else { "unknown" },
                other
            ),
            "Reissue it with an ECDSA P-256 or RSA 2048+ key (`certfleet cert issue --key ecdsa-p256`).",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{codes_of, lint_certs, self_signed_with};
    use super::super::{lint, LintInput};
    use super::*;
    use crate::keys::KeyAlgorithm;
    use rcgen::CertificateParams;

    fn cert_with(alg: KeyAlgorithm) -> (rustls_pki_types::CertificateDer<'static>, PrivateKey) {
        let key = PrivateKey::generate(alg).unwrap();
        let params = CertificateParams::new(vec!["web.example.test".into()]).unwrap();
        (self_signed_with(params, &key), key)
    }

    #[test]
    fn bit_lengths_ignore_leading_zeros() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
        assert_eq!(bit_length(&[0x00]), 0);
    }

    #[test]
    fn rsa_1024_is_an_error_and_2048_is_not() {
        let (weak, _) = cert_with(KeyAlgorithm::Rsa1024);
        let findings = lint_certs(vec![weak]);
        let finding = findings
            .iter()
            .find(|f| f.code == codes::WEAK_RSA_KEY)
            .unwrap();
        assert_eq!(finding.severity, Severity::Error);
        assert!(finding.message.contains("1024-bit"), "{}", finding.message);
        let (fine, _) = cert_with(KeyAlgorithm::Rsa2048);
        assert!(!codes_of(&lint_certs(vec![fine]))
            .iter()
            .any(|(c, _)| *c == codes::WEAK_RSA_KEY));
    }

    #[test]
    fn ed25519_is_a_notice() {
        let (cert, _) = cert_with(KeyAlgorithm::Ed25519);
        assert!(codes_of(&lint_certs(vec![cert])).contains(&(codes::EDDSA_KEY, Severity::Notice)));
    }

    #[test]
    fn a_key_of_another_certificate_is_an_error() {
        let (cert, key) = cert_with(KeyAlgorithm::EcdsaP256);
        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let mut input = LintInput::new(vec![cert]);
        input.key = Some(&key);
        assert!(!codes_of(&lint(&input))
            .iter()
            .any(|(c, _)| *c == codes::KEY_MISMATCH));
        input.key = Some(&other);
        let findings = lint(&input);
        assert!(codes_of(&findings).contains(&(codes::KEY_MISMATCH, Severity::Error)));
        assert_eq!(findings[0].certificate, Some(0));
    }
}
