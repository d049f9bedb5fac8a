//! What `keystore export` copies out of one entry of an opened keystore: its
//! certificate (DER, or PEM followed by the rest of its chain when asked) and its private
//! key as PKCS#8 PEM.

use super::OpenedKeystore;
use crate::{pem, FormatError};
use zeroize::Zeroizing;

/// How the certificates of an entry are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateExport {
    /// The entry's certificate as DER.
    Der,
    /// The entry's certificate as PEM.
    Pem,
    /// The entry's certificate then the rest of its chain, as PEM.
    PemWithChain,
}

impl OpenedKeystore {
    /// The bytes of the certificate file of the entry under `alias`.
    pub fn export_certificates(
        &self,
        alias: &str,
        how: CertificateExport,
    ) -> Result<Vec<u8>, FormatError> {
        let certs = self.certificates_of(alias)?;
        // `certificates_of` never gives an empty list.
        Ok(match how {
            CertificateExport::Der => certs[0].to_vec(),
            CertificateExport::Pem => pem::encode("CERTIFICATE", certs[0]).into_bytes(),
            CertificateExport::PemWithChain => certs
                .iter()
                .map(|der| pem::encode("CERTIFICATE", der))
                .collect::<String>()
                .into_bytes(),
        })
    }

    /// The private key of the entry under `alias`, as PKCS#8 PEM.
    pub fn export_key_pem(&self, alias: &str) -> Result<Zeroizing<String>, FormatError> {
        Ok(Zeroizing::new(pem::encode(
            "PRIVATE KEY",
            self.key_of(alias)?,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Entry, Keystore, KeystoreFormat};
    use super::*;

    fn opened() -> OpenedKeystore {
        let mut opened = OpenedKeystore::empty(KeystoreFormat::Jks);
        opened.store = Keystore {
            entries: vec![
                Entry::PrivateKey {
                    alias: "server".into(),
                    pkcs8_der: Zeroizing::new(vec![1, 2, 3]),
                    chain: vec![vec![4, 5], vec![6, 7]],
                },
                Entry::Trusted {
                    alias: "root".into(),
                    cert_der: vec![6, 7],
                },
            ],
        };
        opened
    }

    #[test]
    fn the_certificate_alone_or_with_its_chain() {
        let opened = opened();
        let der = opened.export_certificates("server", CertificateExport::Der);
        assert_eq!(der.unwrap(), vec![4, 5]);
        let one = opened
            .export_certificates("server", CertificateExport::Pem)
            .unwrap();
        assert_eq!(
            String::from_utf8(one)
                .unwrap()
                .matches("BEGIN CERTIFICATE")
                .count(),
            1
        );
        let all = opened
            .export_certificates("server", CertificateExport::PemWithChain)
            .unwrap();
        assert_eq!(
            String::from_utf8(all)
                .unwrap()
                .matches("BEGIN CERTIFICATE")
                .count(),
            2
        );
    }

    #[test]
    fn a_key_only_from_a_key_entry() {
        let opened = opened();
        assert!(opened
            .export_key_pem("server")
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(opened.export_key_pem("root").is_err());
    }
}
