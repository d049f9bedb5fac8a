//! Reading trust anchors from a CA file, whatever its format: PEM or DER certificates, or
//! a JKS or PKCS#12 keystore (its trusted-certificate entries).

use anyhow::{bail, Context, Result};
use certfleet_formats::keystore::{self, Entry};
use certfleet_pki::bundle::{self, Contents};
use rustls_pki_types::CertificateDer;
use std::path::Path;

/// Every certificate in a trust file: the trusted-certificate entries of a keystore
/// (or, when it has none, the chains of its key entries), or every certificate of a
/// PEM or DER file.
pub fn trust_file_certificates(
    what: &str,
    path: &Path,
    password: Option<&str>,
) -> Result<Vec<CertificateDer<'static>>> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("{what}: {name}"))?;
    let certs: Vec<CertificateDer<'static>> = if keystore::detect(&bytes).is_some() {
        let (format, store) =
            keystore::read(&bytes, password.unwrap_or("")).with_context(|| match password {
                Some(_) => format!("{what}: {name}"),
                None => format!("{what}: {name} (is its password set?)"),
            })?;
        let trusted: Vec<&Entry> = store
            .entries
            .iter()
            .filter(|entry| !entry.is_private_key())
            .collect();
        let chosen: Vec<&Entry> = if trusted.is_empty() {
            store.entries.iter().collect()
        } else {
            trusted
        };
        let certs: Vec<CertificateDer<'static>> = chosen
            .iter()
            .flat_map(|entry| entry.certificates())
            .map(|der| CertificateDer::from(der.to_vec()))
            .collect();
        if certs.is_empty() {
            bail!(
                "{what}: {name}: the {} keystore holds no certificate",
                format.name()
            );
        }
        certs
    } else {
        match bundle::read(&bytes, None).with_context(|| format!("{what}: {name}"))? {
            Contents::Bundle(bundle) => bundle.certificates(),
            Contents::Request(_) => {
                bail!("{what}: {name} holds a certificate request, not certificates")
            }
        }
    };
    if certs.is_empty() {
        bail!("{what}: {name} holds no certificate");
    }
    Ok(certs)
}
