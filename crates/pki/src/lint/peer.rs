//! The `peer-key-refused` check: whether the leaf's key is one the peer that will load
//! it accepts ([`PeerKeyRule`], filled from a kind's entry in the platform model's table
//! by `certfleet lint --peer KIND`).

use super::codes;
use super::{Cert, Finding, Severity};
use crate::keys::KeyAlgorithm;
use x509_parser::public_key::PublicKey;

/// The keys one kind of peer accepts in its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerKeyRule {
    /// The peer's kind as the user named it (`uccx`).
    pub peer: String,
    /// Every key algorithm it accepts.
    pub accepted: Vec<KeyAlgorithm>,
    /// Why, in its vendor's terms.
    pub reason: String,
}

/// The key of a certificate, as far as the rule can name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeafKey {
    Rsa(usize),
    Ecdsa(&'static str),
    Ed25519,
    Other,
}

impl LeafKey {
    fn of(cert: &Cert<'_>) -> LeafKey {
        match cert.x509.public_key().parsed() {
            Ok(PublicKey::RSA(rsa)) => LeafKey::Rsa(super::keys::bit_length(rsa.modulus)),
            Ok(PublicKey::EC(_)) => {
                let curve = cert
                    .x509
                    .public_key()
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|oid| oid.to_id_string());
                match curve.as_deref() {
                    Some("1.2.840.10045.3.1.7") => LeafKey::Ecdsa("P-256"),
                    Some("1.3.132.0.34") => LeafKey::Ecdsa("P-384"),
                    _ => LeafKey::Ecdsa("another curve"),
                }
            }
            Ok(PublicKey::Unknown(_))
                if cert.x509.public_key().algorithm.algorithm.to_id_string() == "1.3.101.112" =>
            {
                LeafKey::Ed25519
            }
            _ => LeafKey::Other,
        }
    }

    /// The algorithm certfleet names it by, when it is one certfleet makes.
    fn algorithm(self) -> Option<KeyAlgorithm> {
        match self {
            LeafKey::Rsa(1024) => Some(KeyAlgorithm::Rsa1024),
            LeafKey::Rsa(2048) => Some(KeyAlgorithm::Rsa2048),
            LeafKey::Rsa(3072) => Some(KeyAlgorithm::Rsa3072),
            LeafKey::Rsa(4096) => Some(KeyAlgorithm::Rsa4096),
            LeafKey::Ecdsa("P-256") => Some(KeyAlgorithm::EcdsaP256),
            LeafKey::Ecdsa("P-384") => Some(KeyAlgorithm::EcdsaP384),
            LeafKey::Ed25519 => Some(KeyAlgorithm::Ed25519),
            _ => None,
        }
    }

    fn describe(self) -> String {
        match self {
            LeafKey::Rsa(bits) => format!("a {bits}-bit RSA key"),
            LeafKey::Ecdsa(curve) => format!("an ECDSA key on {curve}"),
            LeafKey::Ed25519 => "an Ed25519 key".into(),
            LeafKey::Other => "a key of another algorithm".into(),
        }
    }
}

/// The finding when the leaf's key is not one `rule` accepts.
pub(crate) fn check(leaf: &Cert<'_>, rule: &PeerKeyRule) -> Option<Finding> {
    let key = LeafKey::of(leaf);
    if key.algorithm().is_some_and(|k| rule.accepted.contains(&k)) {
        return None;
    }
    let accepted: Vec<&str> = rule.accepted.iter().map(|k| k.name()).collect();
    let first = accepted.first().copied().unwrap_or("rsa2048");
    Some(Finding::new(
        codes::PEER_KEY_REFUSED,
        Severity::Error,
        Some(leaf.index),
        format!(
            "{} has {}, which a {} peer refuses: it takes {} keys only ({})",
            leaf.label(),
            key.describe(),
            rule.peer,
            accepted.join(" or "),
            rule.reason
        ),
        format!(
            "Reissue it with a key the peer takes (`certfleet cert issue --key {first}`, or `key = \"{first}\"` in the service of the platform model, which a kind = \"{}\" service gets by default).",
            rule.peer
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{codes_of, self_signed_with};
    use super::super::{lint, LintInput};
    use super::*;
    use crate::keys::PrivateKey;
    use rcgen::CertificateParams;

    fn rule() -> PeerKeyRule {
        PeerKeyRule {
            peer: "uccx".into(),
            accepted: vec![KeyAlgorithm::Rsa2048, KeyAlgorithm::Rsa1024],
            reason: "two RSA sizes".into(),
        }
    }

    fn findings_for(alg: KeyAlgorithm) -> Vec<super::super::Finding> {
        let key = PrivateKey::generate(alg).unwrap();
        let params = CertificateParams::new(vec!["web.example.test".into()]).unwrap();
        let mut input = LintInput::new(vec![self_signed_with(params, &key)]);
        input.peer = Some(rule());
        lint(&input)
    }

    #[test]
    fn keys_outside_the_peers_list_are_errors_naming_the_key_and_the_peer() {
        for (alg, named) in [
            (KeyAlgorithm::EcdsaP256, "an ECDSA key on P-256"),
            (KeyAlgorithm::Rsa3072, "a 3072-bit RSA key"),
            (KeyAlgorithm::Ed25519, "an Ed25519 key"),
        ] {
            let findings = findings_for(alg);
            let finding = findings
                .iter()
                .find(|f| f.code == codes::PEER_KEY_REFUSED)
                .unwrap_or_else(|| panic!("{alg}: {findings:#?}"));
            assert_eq!(finding.severity, Severity::Error);
            assert!(finding.message.contains(named), "{}", finding.message);
            assert!(finding.message.contains("uccx peer"), "{}", finding.message);
            assert!(
                finding.message.contains("rsa2048 or rsa1024"),
                "{}",
                finding.message
            );
            assert!(finding.hint.contains("--key rsa2048"), "{}", finding.hint);
        }
    }

    #[test]
    fn a_key_the_peer_takes_gives_no_finding() {
        let findings = findings_for(KeyAlgorithm::Rsa2048);
        assert!(
            !codes_of(&findings)
                .iter()
                .any(|(c, _)| *c == codes::PEER_KEY_REFUSED),
            "{findings:#?}"
        );
    }
}
