//! Path verification: does a certificate chain lead to the trust store, at a given time,
//! for a purpose and a host — and if not, why, in words an administrator can act on.
//!
//! [`verify`] takes a [`VerifyRequest`] (leaf, untrusted intermediates, trust anchors,
//! time, [`Purpose`], host) and returns the [`VerifiedChain`] it found, or a
//! [`VerifyFailure`] with a machine [`FailureCode`] and a reason sentence. Path building
//! and the core checks are rustls-webpki's (the verifier rustls uses); `profile.rs` adds
//! the RFC 5280 rules webpki leaves out, `cabf/` the CA/Browser Forum rules of
//! [`Profile::WebPki`] (with its shorter list of signature algorithms), `explain.rs`
//! and `diagnose.rs` put webpki's
//! errors into words, `crl.rs` checks the revocation lists given, and [`limbo`] runs the
//! x509-limbo conformance suite through the same [`verify`]; [`ProfileVerifier`] runs it
//! inside rustls handshakes. `report.rs` writes the answer for people and for scripts.
//!
//! Host names are matched against subject alternative names only, as browsers do.
//!
//! ```
//! use certfleet_pki::{authority, issue, keys::KeyAlgorithm, profile::Usage};
//! use certfleet_pki::verify::{verify, FailureCode, VerifyRequest};
//! let ca = authority::init_ca("Example Root", KeyAlgorithm::EcdsaP256, 365, None).unwrap();
//! let root = ca.root_cert.clone();
//! let ca = authority::Authority::new(ca.root_cert, ca.root_key, vec![]).unwrap();
//! let request = issue::LeafRequest {
//!     cn: "web.example.test".into(),
//!     dns_names: vec![],
//!     ips: vec![],
//!     usage: Usage::Server,
//!     days: 90,
//!     key: KeyAlgorithm::EcdsaP256,
//! };
//! let leaf = issue::issue_leaf(&request, Some(&ca)).unwrap();
//! let anchors = [root];
//! let mut req = VerifyRequest::new(&leaf.cert, &anchors);
//! req.host = Some("web.example.test");
//! assert_eq!(verify(&req).unwrap().certificates.len(), 2);
//! req.host = Some("other.example.test");
//! assert_eq!(verify(&req).unwrap_err().code, FailureCode::NameMismatch);
//! ```

mod cabf;
mod crl;
mod describe;
mod diagnose;
mod explain;
mod failure;
mod inputs;
pub mod limbo;
mod profile;
mod report;
mod request;
mod tls;

pub use failure::{FailureCode, VerifyFailure};
pub use limbo::run_limbo;
pub use request::{Profile, Purpose, VerifiedChain, VerifyRequest};
pub use tls::ProfileVerifier;

use rustls_pki_types::CertificateDer;
use std::cell::RefCell;
use webpki::{EndEntityCert, KeyUsage, RevocationOptionsBuilder, UnknownStatusPolicy};

/// Verifies `req`: builds a path from the leaf through the intermediates to a trust
/// anchor, checks it at `req.at` for `req.purpose` (and the revocation lists given),
/// then checks the leaf against `req.host`.
pub fn verify(req: &VerifyRequest<'_>) -> Result<VerifiedChain, VerifyFailure> {
    let anchors = inputs::trust_anchors(req.trust_anchors)?;
    let host = req.host.map(inputs::server_name).transpose()?;
    let leaf = EndEntityCert::try_from(req.leaf)
        .map_err(|err| explain::unreadable_leaf(req.leaf, &err))?;
    let crls = crl::parse(req.crls)?;
    let crl_refs: Vec<&webpki::CertRevocationList<'static>> = crls.lists.iter().collect();
    let revocation = RevocationOptionsBuilder::new(&crl_refs)
        .ok()
        .map(|builder| {
            // Only the lists given are known: a certificate whose issuer has none here is
            // not checked, rather than refused.
            builder
                .with_status_policy(UnknownStatusPolicy::Allow)
                .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                .build()
        });
    let usage = match req.purpose {
        Purpose::Server => KeyUsage::server_auth(),
        Purpose::Client => KeyUsage::client_auth(),
    };

    let algorithms = match req.profile {
        Profile::Rfc5280 => webpki::ALL_VERIFICATION_ALGS,
        Profile::WebPki => cabf::SIGNATURE_ALGORITHMS,
    };

    // webpki calls this for every path it has fully verified; refusing one makes it try
    // the others. The first refusal is kept, since webpki only returns its own errors.
    let refused: RefCell<Option<VerifyFailure>> = RefCell::new(None);
    let judge = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
        let candidate = candidate(req, &anchors, path);
        let checked =
            profile::check(req, &candidate, &crls.issuers).and_then(|()| match req.profile {
                Profile::Rfc5280 => Ok(()),
                Profile::WebPki => cabf::check(req, &candidate),
            });
        checked.map_err(|failure| {
            refused.borrow_mut().get_or_insert(failure);
            webpki::Error::UnknownIssuer
        })
    };
    let path = leaf
        .verify_for_usage(
            algorithms,
            &anchors,
            req.intermediates,
            inputs::unix_time(req.at),
            usage,
            revocation,
            Some(&judge),
        )
        .map_err(|err| {
            refused
                .borrow_mut()
                .take()
                .unwrap_or_else(|| explain::path_error(req, &err))
        })?;
    if let (Some(name), Some(text)) = (&host, req.host) {
        leaf.verify_is_valid_for_subject_name(name)
            .map_err(|_| diagnose::name_mismatch(req, text))?;
    }
    let found = candidate(req, &anchors, &path);
    let mut certificates = vec![req.leaf.clone()];
    certificates.extend(found.intermediates.iter().map(|c| c.clone().into_owned()));
    certificates.push(CertificateDer::from(found.anchor.to_vec()));
    let valid_until = certificates
        .iter()
        .filter_map(|der| describe::parse(der).map(|c| c.validity().not_after.to_datetime()))
        .min()
        .unwrap_or(req.at);
    Ok(VerifiedChain {
        certificates,
        valid_until,
    })
}

/// The DER of a path webpki found: the anchor is recovered by position, as webpki hands
/// back a reference into the anchor list built from `req.trust_anchors`.
fn candidate<'c>(
    req: &'c VerifyRequest<'_>,
    anchors: &[rustls_pki_types::TrustAnchor<'_>],
    path: &'c webpki::VerifiedPath<'c>,
) -> profile::Candidate<'c> {
    let index = anchors
        .iter()
        .position(|a| std::ptr::eq(a, path.anchor()))
        .unwrap_or(0);
    profile::Candidate {
        leaf: req.leaf.as_ref(),
        intermediates: path.intermediate_certificates().map(|c| c.der()).collect(),
        anchor: req.trust_anchors.get(index).map_or(&[], |der| der.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::{init_ca, Authority};
    use crate::issue::{issue_leaf, IssuedLeaf, LeafRequest};
    use crate::keys::KeyAlgorithm;
    use crate::profile::Usage;
    use time::{Duration, OffsetDateTime};

    /// A root, an issuing intermediate below it, and a leaf issued by the intermediate.
    struct Pki {
        root: CertificateDer<'static>,
        intermediate: CertificateDer<'static>,
        leaf: IssuedLeaf,
    }

    fn pki(cn: &str, ips: &[&str], usage: Usage) -> Pki {
        let ca = init_ca(
            "Test Root",
            KeyAlgorithm::EcdsaP256,
            60,
            Some("Test Issuing"),
        )
        .unwrap();
        let (intermediate, key) = ca.intermediate.unwrap();
        let authority =
            Authority::new(intermediate.clone(), key, vec![ca.root_cert.clone()]).unwrap();
        let request = LeafRequest {
            cn: cn.into(),
            dns_names: vec!["alt.example.test".into()],
            ips: ips.iter().map(|ip| ip.parse().unwrap()).collect(),
            usage,
            days: 30,
            key: KeyAlgorithm::EcdsaP256,
        };
        let leaf = issue_leaf(&request, Some(&authority)).unwrap();
        Pki {
            root: ca.root_cert,
            intermediate,
            leaf,
        }
    }

    fn run(
        pki: &Pki,
        edit: impl FnOnce(&mut VerifyRequest<'_>),
    ) -> Result<VerifiedChain, VerifyFailure> {
        let anchors = [pki.root.clone()];
        let chain = [pki.intermediate.clone()];
        let mut req = VerifyRequest::new(&pki.leaf.cert, &anchors);
        req.intermediates = &chain;
        edit(&mut req);
        verify(&req)
    }

    #[test]
    fn accepts_a_good_chain_and_returns_the_path() {
        let pki = pki("web.example.test", &[], Usage::Server);
        let chain = run(&pki, |r| r.host = Some("alt.example.test")).unwrap();
        assert_eq!(
            chain.certificates,
            vec![
                pki.leaf.cert.clone(),
                pki.intermediate.clone(),
                pki.root.clone()
            ]
        );
        assert!(chain.valid_until > OffsetDateTime::now_utc() + Duration::days(29));
    }

    #[test]
    fn refuses_a_wrong_host_naming_the_valid_ones() {
        let pki = pki("web.example.test", &[], Usage::Server);
        let err = run(&pki, |r| r.host = Some("other.example.test")).unwrap_err();
        assert_eq!(err.code, FailureCode::NameMismatch);
        assert_eq!(
            err.reason,
            "the certificate is valid for DNS:web.example.test, DNS:alt.example.test, not for other.example.test"
        );
    }

    #[test]
    fn refuses_a_server_certificate_for_client_authentication() {
        let pki = pki("web.example.test", &[], Usage::Server);
        let err = run(&pki, |r| r.purpose = Purpose::Client).unwrap_err();
        assert_eq!(err.code, FailureCode::WrongPurpose);
        assert_eq!(
            err.reason,
            "the certificate is not for TLS client authentication (its extended key usage is serverAuth)"
        );
    }

    #[test]
    fn refuses_an_expired_or_not_yet_valid_chain_with_dates() {
        let pki = pki("web.example.test", &[], Usage::Server);
        let later = OffsetDateTime::now_utc() + Duration::days(45);
        let err = run(&pki, |r| r.at = later).unwrap_err();
        assert_eq!(err.code, FailureCode::Expired);
        assert!(
            err.reason
                .starts_with("the certificate 'CN=web.example.test' expired on 20"),
            "{err}"
        );
        assert!(err.reason.contains("(at the time checked, 20"), "{err}");
        let earlier = OffsetDateTime::now_utc() - Duration::days(2);
        let err = run(&pki, |r| r.at = earlier).unwrap_err();
        assert_eq!(err.code, FailureCode::NotYetValid);
        assert!(err.reason.contains("is not valid before"), "{err}");
    }

    #[test]
    fn refuses_a_chain_to_a_foreign_root_naming_the_issuer() {
        let pki = pki("web.example.test", &[], Usage::Server);
        let foreign = init_ca("Foreign Root", KeyAlgorithm::EcdsaP256, 30, None).unwrap();
        let anchors = [foreign.root_cert];
        let chain = [pki.intermediate.clone(), pki.root.clone()];
        let mut req = VerifyRequest::new(&pki.leaf.cert, &anchors);
        req.intermediates = &chain;
        let err = verify(&req).unwrap_err();
        assert_eq!(err.code, FailureCode::UnknownIssuer);
        assert!(
            err.reason
                .contains("ends at the root 'CN=Test Root', which is not trusted"),
            "{err}"
        );
        req.intermediates = &chain[..1];
        let err = verify(&req).unwrap_err();
        assert!(
            err.reason.starts_with(
                "the chain does not lead to any certificate in the trust store (issuer: CN=Test Root)"
            ),
            "{err}"
        );
        req.intermediates = &[];
        let err = verify(&req).unwrap_err();
        assert!(err.reason.contains("(issuer: CN=Test Issuing)"), "{err}");
    }

    #[test]
    fn accepts_an_ip_address_san_and_refuses_another_ip() {
        let pki = pki("web.example.test", &["10.0.0.7"], Usage::Both);
        assert!(run(&pki, |r| r.host = Some("10.0.0.7")).is_ok());
        let client = run(&pki, |r| {
            r.host = Some("10.0.0.7");
            r.purpose = Purpose::Client;
        });
        assert!(client.is_ok());
        let err = run(&pki, |r| r.host = Some("10.0.0.8")).unwrap_err();
        assert_eq!(err.code, FailureCode::NameMismatch);
        assert!(
            err.reason.contains("IP:10.0.0.7, not for 10.0.0.8"),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_ca_as_leaf_and_a_chain_longer_than_allowed() {
        let pki = pki("web.example.test", &[], Usage::Server);
        let anchors = [pki.root.clone()];
        let err = verify(&VerifyRequest::new(&pki.intermediate, &anchors)).unwrap_err();
        assert_eq!(err.code, FailureCode::CaUsedAsLeaf);
        let err = run(&pki, |r| r.max_intermediates = Some(0)).unwrap_err();
        assert_eq!(err.code, FailureCode::PathTooLong);
        assert!(run(&pki, |r| r.max_intermediates = Some(1)).is_ok());
    }

    #[test]
    fn a_self_signed_leaf_in_the_trust_store_is_trusted_directly() {
        let request = LeafRequest {
            cn: "self.example.test".into(),
            dns_names: vec![],
            ips: vec![],
            usage: Usage::Server,
            days: 10,
            key: KeyAlgorithm::EcdsaP256,
        };
        let leaf = issue_leaf(&request, None).unwrap();
        let anchors = [leaf.cert.clone()];
        let mut req = VerifyRequest::new(&leaf.cert, &anchors);
        req.host = Some("self.example.test");
        assert_eq!(verify(&req).unwrap().certificates.len(), 2);
        let other = issue_leaf(&request, None).unwrap();
        let err = verify(&VerifyRequest::new(&other.cert, &anchors)).unwrap_err();
        assert_eq!(err.code, FailureCode::BadSignature, "{err}");
    }
}
