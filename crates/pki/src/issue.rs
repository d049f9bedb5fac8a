//! Issuing leaf certificates: CA-signed or self-signed, with a fresh key.

use crate::authority::Authority;
use crate::error::Result;
use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::names::san_set;
use crate::profile::{self, Usage};
use crate::subject::SubjectAttributes;
use rustls_pki_types::CertificateDer;
use std::net::IpAddr;

/// What the administrator asks for with `cert issue`.
#[derive(Debug, Clone)]
pub struct LeafRequest {
    /// The subject common name; always also a SAN.
    pub cn: String,
    /// Extra DNS names.
    pub dns_names: Vec<String>,
    /// IP addresses.
    pub ips: Vec<IpAddr>,
    /// Server, client or both.
    pub usage: Usage,
    /// Validity in days (capped at the issuer's expiry).
    pub days: u32,
    /// The new key's algorithm.
    pub key: KeyAlgorithm,
}

/// A leaf with its new key and the chain that goes with it.
#[derive(Debug)]
pub struct IssuedLeaf {
    /// The leaf's private key.
    pub key: PrivateKey,
    /// The leaf certificate.
    pub cert: CertificateDer<'static>,
    /// The issuing chain up to and including the root; empty when self-signed.
    pub chain: Vec<CertificateDer<'static>>,
}

/// Issues a leaf signed by `authority`, or self-signed when it is `None`.
pub fn issue_leaf(request: &LeafRequest, authority: Option<&Authority>) -> Result<IssuedLeaf> {
    let key = PrivateKey::generate(request.key)?;
    issue_leaf_with_key(request, key, authority)
}

/// Like [`issue_leaf`], for a key the caller already has (renewal without re-keying).
/// `request.key` is ignored; the key's own algorithm decides the key usages.
pub fn issue_leaf_with_key(
    request: &LeafRequest,
    key: PrivateKey,
    authority: Option<&Authority>,
) -> Result<IssuedLeaf> {
    issue_leaf_with_subject(request, &SubjectAttributes::default(), key, authority)
}

/// Like [`issue_leaf_with_key`], with `subject`'s attributes (O, OU, ...) before the CN.
pub fn issue_leaf_with_subject(
    request: &LeafRequest,
    subject: &SubjectAttributes,
    key: PrivateKey,
    authority: Option<&Authority>,
) -> Result<IssuedLeaf> {
    let params = leaf_params_for(
        request,
        subject,
        key.algorithm(),
        authority.map(Authority::not_after),
    )?;
    let (cert, chain) = match authority {
        Some(ca) => {
            let issuer = ca.issuer()?;
            let cert = params.signed_by(&key, &issuer)?.der().clone();
            (cert, ca.issuing_chain())
        }
        None => (params.self_signed(&key)?.der().clone(), Vec::new()),
    };
    Ok(IssuedLeaf { key, cert, chain })
}

/// Issues a leaf with a fresh key signed by `authority`, valid for `lifetime_seconds`
/// (`request.days` is ignored): short-lived certificates, and renewals that keep the
/// lifetime of the certificate they replace. Capped at the issuer's expiry.
pub fn issue_leaf_for_seconds(
    request: &LeafRequest,
    lifetime_seconds: u32,
    authority: &Authority,
) -> Result<IssuedLeaf> {
    let key = PrivateKey::generate(request.key)?;
    let sans = san_set(&request.cn, &request.dns_names, &request.ips)?;
    let window = profile::validity_seconds(lifetime_seconds, Some(authority.not_after()))?;
    let subject = SubjectAttributes::default().checked()?;
    let params = profile::leaf_params(
        &request.cn,
        &subject,
        &sans,
        request.usage,
        key.algorithm(),
        window,
    )?;
    let cert = params.signed_by(&key, &authority.issuer()?)?.der().clone();
    Ok(IssuedLeaf {
        key,
        cert,
        chain: authority.issuing_chain(),
    })
}

/// A self-signed leaf for a key the caller keeps (a node's service key), made exactly as
/// [`issue_leaf_with_subject`] makes one without an authority.
pub fn self_signed_for_key(
    request: &LeafRequest,
    subject: &SubjectAttributes,
    key: &PrivateKey,
) -> Result<CertificateDer<'static>> {
    let params = leaf_params_for(request, subject, key.algorithm(), None)?;
    Ok(params.self_signed(key)?.der().clone())
}

/// The leaf profile of `request` with `subject`, valid from now, never past `cap`.
fn leaf_params_for(
    request: &LeafRequest,
    subject: &SubjectAttributes,
    key: KeyAlgorithm,
    cap: Option<time::OffsetDateTime>,
) -> Result<rcgen::CertificateParams> {
    let subject = subject.checked()?;
    let sans = san_set(&request.cn, &request.dns_names, &request.ips)?;
    let window = profile::validity(request.days, cap)?;
    profile::leaf_params(&request.cn, &subject, &sans, request.usage, key, window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::init_ca;

    fn request(cn: &str) -> LeafRequest {
        LeafRequest {
            cn: cn.into(),
            dns_names: vec!["alt.example.test".into()],
            ips: vec!["127.0.0.1".parse().unwrap()],
            usage: Usage::Both,
            days: 30,
            key: KeyAlgorithm::EcdsaP256,
        }
    }

    #[test]
    fn a_ca_signed_leaf_carries_the_cn_as_a_san_and_the_chain() {
        let ca = init_ca("Root", KeyAlgorithm::EcdsaP256, 60, None).unwrap();
        let authority = Authority::new(ca.root_cert.clone(), ca.root_key, vec![]).unwrap();
        let leaf = issue_leaf(&request("web.example.test"), Some(&authority)).unwrap();
        assert_eq!(leaf.chain, vec![ca.root_cert]);
        let (_, parsed) = x509_parser::parse_x509_certificate(&leaf.cert).unwrap();
        let sans = parsed.subject_alternative_name().unwrap().unwrap();
        assert_eq!(sans.value.general_names.len(), 3);
        assert!(!parsed.is_ca());
    }

    #[test]
    fn a_self_signed_leaf_for_a_kept_key_is_its_own_issuer() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let cert = self_signed_for_key(
            &request("web.example.test"),
            &SubjectAttributes::default(),
            &key,
        )
        .unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert).unwrap();
        assert_eq!(parsed.issuer(), parsed.subject());
        parsed.verify_signature(None).unwrap();
        assert_eq!(parsed.public_key().raw, key.spki_der().as_slice());
    }

    #[test]
    fn a_short_lived_leaf_lasts_its_seconds() {
        let ca = init_ca("Root", KeyAlgorithm::EcdsaP256, 10, None).unwrap();
        let authority = Authority::new(ca.root_cert, ca.root_key, vec![]).unwrap();
        let leaf = issue_leaf_for_seconds(&request("web.example.test"), 90, &authority).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&leaf.cert).unwrap();
        let validity = parsed.validity();
        let seconds = validity.not_after.timestamp() - validity.not_before.timestamp();
        assert_eq!(seconds, 99);
        assert_eq!(leaf.chain.len(), 1);
    }

    #[test]
    fn a_leaf_never_outlives_its_ca() {
        let ca = init_ca("Root", KeyAlgorithm::EcdsaP256, 10, None).unwrap();
        let authority = Authority::new(ca.root_cert, ca.root_key, vec![]).unwrap();
        let mut req = request("web.example.test");
        req.days = 400;
        let leaf = issue_leaf(&req, Some(&authority)).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&leaf.cert).unwrap();
        assert!(parsed.validity().not_after.to_datetime() <= authority.not_after());
    }
}
