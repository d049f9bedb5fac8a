//! Certificate authorities: creating a root (optionally with an issuing intermediate) and
//! loading an existing CA to sign with.

use crate::error::{PkiError, Result};
use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::profile;
use crate::subject::SubjectAttributes;
use rcgen::{Issuer, PublicKeyData};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

/// A CA able to sign: its certificate, its key, and the certificates above it.
#[derive(Debug)]
pub struct Authority {
    cert: CertificateDer<'static>,
    key: PrivateKey,
    above: Vec<CertificateDer<'static>>,
    not_after: OffsetDateTime,
}

/// A freshly made CA: a root and, when asked, an intermediate signed by it.
#[derive(Debug)]
pub struct NewCa {
    /// The self-signed root certificate.
    pub root_cert: CertificateDer<'static>,
    /// The root's key.
    pub root_key: PrivateKey,
    /// The issuing intermediate and its key, when one was asked for.
    pub intermediate: Option<(CertificateDer<'static>, PrivateKey)>,
}

/// Makes a root CA valid for `days` days and, with `intermediate_cn`, an intermediate
/// signed by it with the same validity window. Both keys use `algorithm`.
pub fn init_ca(
    cn: &str,
    algorithm: KeyAlgorithm,
    days: u32,
    intermediate_cn: Option<&str>,
) -> Result<NewCa> {
    init_ca_with_subject(
        cn,
        &SubjectAttributes::default(),
        algorithm,
        days,
        intermediate_cn,
    )
}

/// Like [`init_ca`], with `subject`'s attributes (O, OU, ...) in the subject of the root
/// and of the intermediate.
pub fn init_ca_with_subject(
    cn: &str,
    subject: &SubjectAttributes,
    algorithm: KeyAlgorithm,
    days: u32,
    intermediate_cn: Option<&str>,
) -> Result<NewCa> {
    let subject = subject.checked()?;
    let window = profile::validity(days, None)?;
    let root_key = PrivateKey::generate(algorithm)?;
    let path_len = if intermediate_cn.is_some() { 1 } else { 0 };
    let root_params = profile::ca_params(cn, &subject, path_len, window)?;
    let root_cert = root_params.self_signed(&root_key)?.der().clone();
    let intermediate = match intermediate_cn {
        None => None,
        Some(icn) => {
            let issuer = Issuer::from_params(&root_params, &root_key);
            let key = PrivateKey::generate(algorithm)?;
            let params = profile::ca_params(icn, &subject, 0, window)?;
            let cert = params.signed_by(&key, &issuer)?.der().clone();
            Some((cert, key))
        }
    };
    Ok(NewCa {
        root_cert,
        root_key,
        intermediate,
    })
}

impl Authority {
    /// Loads a CA from its certificate, its key and the certificates above it (empty for a
    /// root). Refuses a key that does not match the certificate, or a certificate that is
    /// not a CA.
    pub fn new(
        cert: CertificateDer<'static>,
        key: PrivateKey,
        above: Vec<CertificateDer<'static>>,
    ) -> Result<Self> {
        let (_, parsed) =
            x509_parser::parse_x509_certificate(&cert).map_err(|e| PkiError::Malformed {
                what: "CA certificate".into(),
                detail: e.to_string(),
            })?;
        if !parsed.is_ca() {
            return Err(PkiError::Invalid(format!(
                "'{}' is not a CA certificate (Basic Constraints CA:TRUE missing)",
                parsed.subject()
            )));
        }
        if parsed.public_key().subject_public_key.data.as_ref() != key.der_bytes() {
            return Err(PkiError::Invalid(format!(
                "the CA key does not match the CA certificate '{}'",
                parsed.subject()
            )));
        }
        let not_after = parsed.validity().not_after.to_datetime();
        Ok(Authority {
            cert,
            key,
            above,
            not_after,
        })
    }

    /// The CA's own certificate.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The issuing chain to hand out with a leaf: this CA's certificate, then those above
    /// it, ending with the root.
    pub fn issuing_chain(&self) -> Vec<CertificateDer<'static>> {
        std::iter::once(self.cert.clone())
            .chain(self.above.iter().cloned())
            .collect()
    }

    /// The same CA handing out `above` as the certificates above it (e.g. a cross-signed
    /// root in place of the root, so that peers trusting an older root accept the chain).
    pub fn with_above(mut self, above: Vec<CertificateDer<'static>>) -> Self {
        self.above = above;
        self
    }

    /// When the CA's certificate expires; nothing it signs may outlive it.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The CA's key algorithm.
    pub fn key_algorithm(&self) -> KeyAlgorithm {
        self.key.algorithm()
    }

    /// Signs a certificate made from `params` for the public key `spki_der` (DER
    /// SubjectPublicKeyInfo, e.g. a CSR's): for callers that set the certificate's names
    /// and extensions themselves (a service's names from a model, an agent's identity)
    /// rather than taking them from a request.
    pub fn sign_public_key(
        &self,
        params: &rcgen::CertificateParams,
        spki_der: &[u8],
    ) -> Result<CertificateDer<'static>> {
        let public_key = rcgen::SubjectPublicKeyInfo::from_der(spki_der)?;
        Ok(params
            .signed_by(&public_key, &self.issuer()?)?
            .der()
            .clone())
    }

    pub(crate) fn issuer(&self) -> Result<Issuer<'static, &PrivateKey>> {
        Ok(Issuer::from_ca_cert_der(&self.cert, &self.key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_with_an_intermediate_loads_as_an_authority() {
        let ca = init_ca(
            "Test Root",
            KeyAlgorithm::EcdsaP256,
            30,
            Some("Test Issuing"),
        )
        .unwrap();
        let (icert, ikey) = ca.intermediate.unwrap();
        let authority = Authority::new(icert, ikey, vec![ca.root_cert.clone()]).unwrap();
        assert_eq!(authority.issuing_chain().len(), 2);
        assert_eq!(authority.issuing_chain()[1], ca.root_cert);
    }

    #[test]
    fn a_key_that_does_not_match_is_refused() {
        let ca = init_ca("Test Root", KeyAlgorithm::EcdsaP256, 30, None).unwrap();
        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let err = Authority::new(ca.root_cert, other, vec![]).unwrap_err();
        assert!(err.to_string().contains("does not match"));
    }
}
