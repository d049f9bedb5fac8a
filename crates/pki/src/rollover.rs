//! Replacing a CA while the old one is still trusted: a new issuing intermediate signed by
//! an existing root, and a cross-signed copy of a new root (its subject and key, signed by
//! the old root) so that peers trusting only the old root accept what the new one issues.

use crate::authority::Authority;
use crate::error::{PkiError, Result};
use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::profile;
use crate::subject::SubjectAttributes;
use rustls_pki_types::CertificateDer;
use x509_parser::extensions::ParsedExtension;

/// Makes a new intermediate CA named `cn` with a fresh `algorithm` key, signed by `root`,
/// valid for `days` days but never past the root's own expiry.
pub fn sign_intermediate(
    root: &Authority,
    cn: &str,
    algorithm: KeyAlgorithm,
    days: u32,
) -> Result<(CertificateDer<'static>, PrivateKey)> {
    let window = profile::validity(days, Some(root.not_after()))?;
    let key = PrivateKey::generate(algorithm)?;
    let params = profile::ca_params(cn, &SubjectAttributes::default(), 0, window)?;
    let cert = params.signed_by(&key, &root.issuer()?)?.der().clone();
    Ok((cert, key))
}

/// Signs `ca` (a CA certificate, typically a new root) again with `signer` (the old
/// root): the result has `ca`'s subject, key, path length and validity (cut at the
/// signer's expiry), so a chain through it ends at the signer.
pub fn cross_sign(signer: &Authority, ca: &CertificateDer<'_>) -> Result<CertificateDer<'static>> {
    let malformed = |detail: String| PkiError::Malformed {
        what: "CA certificate to cross-sign".into(),
        detail,
    };
    let (_, parsed) =
        x509_parser::parse_x509_certificate(ca).map_err(|e| malformed(e.to_string()))?;
    let cn = parsed
        .subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .ok_or_else(|| malformed("it has no common name".into()))?
        .to_owned();
    let path_len = parsed
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) if bc.ca => Some(bc.path_len_constraint),
            _ => None,
        })
        .ok_or_else(|| malformed("it is not a CA certificate".into()))?;
    let path_len = path_len.map_or(Ok(u8::MAX), |n| {
        u8::try_from(n).map_err(|_| malformed(format!("path length {n} is out of range")))
    })?;
    let not_before = parsed.validity().not_before.to_datetime();
    let not_after = parsed
        .validity()
        .not_after
        .to_datetime()
        .min(signer.not_after());
    let attributes = crate::subject::of_certificate(ca)?;
    let params = profile::ca_params(&cn, &attributes, path_len, (not_before, not_after))?;
    let public_key = rcgen::SubjectPublicKeyInfo::from_der(parsed.public_key().raw)?;
    Ok(params
        .signed_by(&public_key, &signer.issuer()?)?
        .der()
        .clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::init_ca;

    fn root(cn: &str, intermediate: Option<&str>) -> (Authority, crate::authority::NewCa) {
        let ca = init_ca(cn, KeyAlgorithm::EcdsaP256, 30, intermediate).unwrap();
        let key = PrivateKey::from_bytes(ca.root_key.to_pem().as_bytes()).unwrap();
        (
            Authority::new(ca.root_cert.clone(), key, vec![]).unwrap(),
            ca,
        )
    }

    fn parse<'a>(der: &'a CertificateDer<'a>) -> x509_parser::certificate::X509Certificate<'a> {
        x509_parser::parse_x509_certificate(der).unwrap().1
    }

    #[test]
    fn a_new_intermediate_is_signed_by_the_existing_root() {
        let (root, _) = root("Old Root", Some("Old Issuing"));
        let (cert, key) =
            sign_intermediate(&root, "New Issuing", KeyAlgorithm::EcdsaP256, 3650).unwrap();
        let parsed = parse(&cert);
        assert_eq!(parsed.subject().to_string(), "CN=New Issuing");
        assert_eq!(parsed.issuer().to_string(), "CN=Old Root");
        // Capped at the root's 30 days.
        assert!(parsed.validity().not_after.to_datetime() <= root.not_after());
        let signed = Authority::new(cert, key, vec![root.certificate().clone()]).unwrap();
        assert_eq!(signed.issuing_chain().len(), 2);
    }

    #[test]
    fn a_cross_signed_root_keeps_subject_and_key_under_the_old_issuer() {
        let (old, _) = root("Old Root", None);
        let (_, new) = root("New Root", Some("New Issuing"));
        let cross = cross_sign(&old, &new.root_cert).unwrap();
        let (c, n) = (parse(&cross), parse(&new.root_cert));
        assert_eq!(c.subject().as_raw(), n.subject().as_raw());
        assert_eq!(c.issuer().to_string(), "CN=Old Root");
        assert_eq!(c.public_key().raw, n.public_key().raw);
        assert!(c.is_ca());
        // The old root's signature verifies.
        let old_parsed = parse(old.certificate());
        c.verify_signature(Some(old_parsed.public_key())).unwrap();
    }
}
