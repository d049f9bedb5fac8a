//! Checking a CA's signed reply against the CSR it answers, before anything is installed.
//!
//! The classic failure this prevents: a CA that adds or drops SANs, or a reply signed for
//! another request, discovered only when the service fails its handshakes.

use crate::chain::order_chain;
use crate::csr::{general_names_to_sans, CsrInfo};
use crate::error::{PkiError, Result};
use crate::keys::PrivateKey;
use crate::names::San;
use rcgen::PublicKeyData;
use rustls_pki_types::CertificateDer;
use std::collections::BTreeSet;

/// An accepted reply: the leaf and its chain in issuer order.
#[derive(Debug)]
pub struct ImportedReply {
    /// The leaf matching the CSR.
    pub leaf: CertificateDer<'static>,
    /// The rest, ordered from the leaf's issuer up.
    pub chain: Vec<CertificateDer<'static>>,
}

/// Finds the leaf answering `csr` among `certs` (the reply, possibly with its chain) plus
/// `extra_chain`, and checks it. Every difference is listed in one
/// [`PkiError::Mismatch`]: a public key other than the CSR's, SANs added or dropped, and
/// a `key` that is not the CSR's.
pub fn check_reply(
    csr: &CsrInfo,
    certs: &[CertificateDer<'static>],
    extra_chain: &[CertificateDer<'static>],
    key: Option<&PrivateKey>,
) -> Result<ImportedReply> {
    let first = certs
        .first()
        .ok_or_else(|| PkiError::WrongKind("the reply holds no certificate".into()))?;
    let leaf = certs
        .iter()
        .find(|c| public_key_bits(c).as_deref() == Some(csr.public_key.as_slice()))
        .unwrap_or(first)
        .clone();
    let (_, parsed) =
        x509_parser::parse_x509_certificate(&leaf).map_err(|e| PkiError::Malformed {
            what: "reply certificate".into(),
            detail: e.to_string(),
        })?;

    let mut differences = Vec::new();
    if parsed.public_key().subject_public_key.data.as_ref() != csr.public_key.as_slice() {
        differences.push(format!(
            "public key: the certificate ({}) carries a different public key from the CSR; it was signed for another request",
            parsed.subject()
        ));
    }
    let cert_sans: BTreeSet<San> = match parsed.subject_alternative_name() {
        Ok(Some(ext)) => general_names_to_sans(&ext.value.general_names)
            .into_iter()
            .collect(),
        _ => BTreeSet::new(),
    };
    if let Some(csr_sans) = &csr.sans {
        let asked: BTreeSet<San> = csr_sans.iter().cloned().collect();
        for added in cert_sans.difference(&asked) {
            differences.push(format!(
                "SAN {} is in the certificate but not in the CSR",
                added.display()
            ));
        }
        for dropped in asked.difference(&cert_sans) {
            differences.push(format!(
                "SAN {} is in the CSR but not in the certificate",
                dropped.display()
            ));
        }
    }
    if let Some(key) = key {
        if key.der_bytes() != csr.public_key.as_slice() {
            differences
                .push("private key: the key given is not the one the CSR was made with".into());
        }
    }
    if !differences.is_empty() {
        return Err(PkiError::Mismatch(differences));
    }
    let pool: Vec<CertificateDer<'static>> = certs.iter().chain(extra_chain).cloned().collect();
    let (chain, _) = order_chain(&leaf, &pool);
    Ok(ImportedReply { leaf, chain })
}

fn public_key_bits(cert: &CertificateDer<'_>) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(cert)
        .ok()
        .map(|(_, c)| c.public_key().subject_public_key.data.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::{init_ca, Authority};
    use crate::csr::{new_csr, read_csr, sign_csr, SigningPolicy};
    use crate::keys::KeyAlgorithm;
    use crate::profile::Usage;

    #[test]
    fn accepts_the_matching_reply_and_lists_every_difference_otherwise() {
        let ca = init_ca("Root", KeyAlgorithm::EcdsaP256, 60, None).unwrap();
        let authority = Authority::new(ca.root_cert.clone(), ca.root_key, vec![]).unwrap();
        let mine = new_csr(
            "a.example.test",
            &["b.example.test".into()],
            &[],
            false,
            KeyAlgorithm::EcdsaP256,
        )
        .unwrap();
        let info = read_csr(&mine.csr_der).unwrap();
        let cert = sign_csr(
            &authority,
            &info,
            Usage::Server,
            30,
            &SigningPolicy::default(),
        )
        .unwrap();
        let ok = check_reply(
            &info,
            &[cert],
            std::slice::from_ref(&ca.root_cert),
            Some(&mine.key),
        )
        .unwrap();
        assert_eq!(ok.chain, vec![ca.root_cert.clone()]);

        let other = new_csr(
            "a.example.test",
            &["c.example.test".into()],
            &[],
            false,
            KeyAlgorithm::EcdsaP256,
        )
        .unwrap();
        let other_info = read_csr(&other.csr_der).unwrap();
        let foreign = sign_csr(
            &authority,
            &other_info,
            Usage::Server,
            30,
            &SigningPolicy::default(),
        )
        .unwrap();
        let PkiError::Mismatch(diffs) =
            check_reply(&info, &[foreign], &[], Some(&mine.key)).unwrap_err()
        else {
            panic!("expected a mismatch");
        };
        assert_eq!(diffs.len(), 3, "{diffs:?}");
    }
}
