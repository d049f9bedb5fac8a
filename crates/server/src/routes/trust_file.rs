//! Reading trust anchors from a CA file, whatever its format: PEM or DER certificates, or
//! a JKS or PKCS#12 keystore (its trusted-certificate entries); or the system roots, for
//! a `--trust` flag that says `system`.

use anyhow::{bail, Context, Result};
use certfleet_formats::keystore::{self, Entry};
use certfleet_pki::bundle::{self, Contents};
use rustls_pki_types::CertificateDer;
use std::path::Path;

/// The trust anchors a `--trust` flag names: `system` (or no flag) for the system roots,
/// else a trust file in any format [`trust_file_certificates`] reads. When the system
/// has no roots, the refusal ends by suggesting `instead` (e.g. "--trust FILE").
pub fn trust_anchors(
    trust: Option<&str>,
    password: Option<&str>,
    instead: &str,
) -> Result<Vec<CertificateDer<'static>>> {
    match trust {
        None | Some("system") => {
            let loaded = rustls_native_certs::load_native_certs();
            if loaded.certs.is_empty() {
                bail!("--trust system: no system root certificates found (install the ca-certificates package, or give {instead})");
            }
            Ok(loaded.certs)
        }
        Some(path) => trust_file_certificates("--trust", Path::new(path), password),
    }
}

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
