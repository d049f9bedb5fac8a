//! Reading certificates, private keys and CSRs from files given on the command line, with
//! errors that name the file.

use crate::files::{read_input, with_suffix};
use anyhow::{Context, Result};
use certfleet_pki::certs::parse_certificates;
use certfleet_pki::csr::{read_csr, CsrInfo};
use certfleet_pki::keys::PrivateKey;
use rustls_pki_types::CertificateDer;
use std::path::{Path, PathBuf};

/// Every certificate of a PEM or DER file.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    parse_certificates(&read_input(path)?).with_context(|| path.display().to_string())
}

/// The private key of a file: PEM or DER (PKCS#8, PKCS#1, SEC1), or a merged bundle.
pub fn read_private_key(path: &Path) -> Result<PrivateKey> {
    PrivateKey::from_bytes(&read_input(path)?).with_context(|| path.display().to_string())
}

/// The key file beside a CSR made by `certfleet csr new`: `web.key` for `web.csr`, when
/// it exists.
pub fn sibling_key_of_csr(csr: &Path) -> Option<PathBuf> {
    let stem = csr.to_str()?.strip_suffix(".csr")?;
    let key = with_suffix(Path::new(stem), ".key");
    key.exists().then_some(key)
}

/// The CSR of a PEM or DER file, its signature checked.
pub fn read_request(path: &Path) -> Result<CsrInfo> {
    read_csr(&read_input(path)?).with_context(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csr_s_key_is_the_existing_file_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let csr = dir.path().join("web.csr");
        assert_eq!(sibling_key_of_csr(&csr), None);
        std::fs::write(dir.path().join("web.key"), "key").unwrap();
        assert_eq!(sibling_key_of_csr(&csr), Some(dir.path().join("web.key")));
        assert_eq!(sibling_key_of_csr(&dir.path().join("web.pem")), None);
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "no PEM here").unwrap();
        for err in [
            read_certificates(&path).unwrap_err(),
            read_private_key(&path).err().unwrap(),
            read_request(&path).err().unwrap(),
        ] {
            assert!(format!("{err:#}").contains("notes.txt"), "{err:#}");
        }
    }
}
