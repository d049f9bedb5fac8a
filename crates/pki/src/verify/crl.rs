//! Certificate revocation lists given by the caller: parsed for webpki, checked against
//! the RFC 5280 rules webpki does not enforce (a CRL number, not critical, 5.2.3), and
//! searched to name the certificate that a CRL revokes.

use super::describe;
use super::request::VerifyRequest;
use super::{FailureCode, VerifyFailure};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use webpki::{CertRevocationList, OwnedCertRevocationList};
use x509_parser::oid_registry::OID_X509_EXT_CRL_NUMBER;

/// The CRLs of a request, ready for webpki.
pub(crate) struct Crls {
    /// The parsed lists.
    pub lists: Vec<CertRevocationList<'static>>,
    /// The raw issuer name of each list.
    pub issuers: Vec<Vec<u8>>,
}

/// Parses and checks every CRL; the error names the CRL by position and issuer.
pub(crate) fn parse(crls: &[CertificateRevocationListDer<'static>]) -> Result<Crls, VerifyFailure> {
    let mut out = Crls {
        lists: Vec::with_capacity(crls.len()),
        issuers: Vec::with_capacity(crls.len()),
    };
    for (index, der) in crls.iter().enumerate() {
        let position = index + 1;
        let bad = |what: String| VerifyFailure::new(FailureCode::BadCrl, what);
        let parsed = x509_parser::parse_x509_crl(der.as_ref())
            .map_err(|e| bad(format!("revocation list {position} does not parse: {e}")))?
            .1;
        let issuer = parsed.issuer().to_string();
        match parsed.extensions().iter().find(|e| e.oid == OID_X509_EXT_CRL_NUMBER) {
            None => {
                return Err(bad(format!(
                    "the revocation list from '{issuer}' has no CRL number, which RFC 5280 (5.2.3) requires, so it cannot be trusted"
                )))
            }
            Some(ext) if ext.critical => {
                return Err(bad(format!(
                    "the revocation list from '{issuer}' marks its CRL number critical, which RFC 5280 (5.2.3) forbids, so it cannot be trusted"
                )))
            }
            Some(_) => {}
        }
        let list = OwnedCertRevocationList::from_der(der.as_ref()).map_err(|e| {
            bad(format!(
                "the revocation list from '{issuer}' cannot be used: {e:?}"
            ))
        })?;
        out.issuers.push(parsed.issuer().as_raw().to_vec());
        out.lists.push(CertRevocationList::from(list));
    }
    Ok(out)
}

/// Names the certificate of `certs` whose serial a CRL from its issuer lists.
pub(crate) fn revoked_one(req: &VerifyRequest<'_>, certs: &[CertificateDer<'static>]) -> String {
    let lists: Vec<_> = req
        .crls
        .iter()
        .filter_map(|der| {
            x509_parser::parse_x509_crl(der.as_ref())
                .ok()
                .map(|(_, c)| c)
        })
        .collect();
    certs
        .iter()
        .enumerate()
        .find_map(|(index, der)| {
            let cert = describe::parse(der)?;
            let listed = lists.iter().any(|crl| {
                crl.issuer().as_raw() == cert.issuer().as_raw()
                    && crl
                        .iter_revoked_certificates()
                        .any(|r| r.raw_serial() == cert.raw_serial())
            });
            let role = if index == 0 {
                "the certificate"
            } else {
                "the intermediate CA certificate"
            };
            listed.then(|| format!("{role} {}", describe::name(&cert)))
        })
        .unwrap_or_else(|| "a certificate of the chain".into())
}
