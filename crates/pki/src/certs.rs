//! Reading certificates from PEM or DER bytes.

use crate::error::{PkiError, Result};
use certfleet_formats::pem;
use rustls_pki_types::CertificateDer;

/// Every certificate in `bytes`, in file order: all `CERTIFICATE` blocks of PEM text, or
/// one DER certificate. Each is checked to parse as X.509; errors name its position.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let ders: Vec<(usize, Vec<u8>)> = if pem::looks_like_pem(bytes) {
        let text = String::from_utf8_lossy(bytes);
        pem::decode_blocks(&text)?
            .into_iter()
            .filter(|b| b.label == "CERTIFICATE" || b.label == "X509 CERTIFICATE")
            .map(|b| (b.index, b.der))
            .collect()
    } else {
        vec![(1, bytes.to_vec())]
    };
    if ders.is_empty() {
        return Err(PkiError::WrongKind("no CERTIFICATE block found".into()));
    }
    ders.into_iter()
        .map(|(index, der)| {
            check_parses(&der, index)?;
            Ok(CertificateDer::from(der))
        })
        .collect()
}

/// Exactly one certificate from `bytes`; more than one is an error.
pub fn parse_single_certificate(bytes: &[u8]) -> Result<CertificateDer<'static>> {
    let mut certs = parse_certificates(bytes)?;
    if certs.len() != 1 {
        return Err(PkiError::WrongKind(format!(
            "expected one certificate, found {}",
            certs.len()
        )));
    }
    Ok(certs.remove(0))
}

fn check_parses(der: &[u8], index: usize) -> Result<()> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], _)) => Ok(()),
        Ok(_) => Err(PkiError::Malformed {
            what: format!("certificate in block {index}"),
            detail: "trailing bytes after the certificate".into(),
        }),
        Err(e) => Err(PkiError::Malformed {
            what: format!("certificate in block {index}"),
            detail: e.to_string(),
        }),
    }
}

/// Encodes certificates as concatenated PEM blocks, in the given order.
pub fn to_pem(certs: &[CertificateDer<'_>]) -> String {
    certs
        .iter()
        .map(|c| pem::encode("CERTIFICATE", c.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_garbage_and_non_certificates() {
        assert!(parse_certificates(b"hello").is_err());
        let key_only = pem::encode("PRIVATE KEY", &[0x30, 0x00]);
        let err = parse_certificates(key_only.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE block"));
        let bad = pem::encode("CERTIFICATE", &[0x30, 0x03, 1, 2, 3]);
        let err = parse_certificates(bad.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("block 1"), "{err}");
    }
}
