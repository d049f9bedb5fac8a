//! The CA directory layout of `ca init --out DIR`: writing a new CA into it, and loading
//! a CA from it.
//!
//! `root.crt` and `root.key` always; `intermediate.crt` and `intermediate.key` when the
//! CA has an issuing intermediate, which then signs everything.

use crate::files::{read_input, Mode, OutputSet};
use anyhow::{bail, Context, Result};
use certfleet_pki::authority::Authority;
use certfleet_pki::authority::NewCa;
use certfleet_pki::certs::{parse_single_certificate, to_pem};
use certfleet_pki::keys::PrivateKey;
use std::path::{Path, PathBuf};

/// The files of a CA directory.
pub struct CaPaths {
    /// `DIR/root.crt`.
    pub root_crt: PathBuf,
    /// `DIR/root.key`.
    pub root_key: PathBuf,
    /// `DIR/intermediate.crt`.
    pub intermediate_crt: PathBuf,
    /// `DIR/intermediate.key`.
    pub intermediate_key: PathBuf,
}

impl CaPaths {
    /// The paths inside `dir`.
    pub fn new(dir: &Path) -> Self {
        CaPaths {
            root_crt: dir.join("root.crt"),
            root_key: dir.join("root.key"),
            intermediate_crt: dir.join("intermediate.crt"),
            intermediate_key: dir.join("intermediate.key"),
        }
    }
}

/// Writes a new CA's certificates (0644) and keys (0600) into the existing directory
/// `dir`, all or nothing; refuses, naming the file, when any of them exists already (a
/// CA is never overwritten). Returns the paths written.
pub fn write_ca_dir(dir: &Path, ca: &NewCa) -> Result<Vec<PathBuf>> {
    let paths = CaPaths::new(dir);
    let mut set = OutputSet::default();
    set.add(
        &paths.root_crt,
        to_pem(std::slice::from_ref(&ca.root_cert)),
        Mode::Public,
    );
    set.add(
        &paths.root_key,
        ca.root_key.to_pem().as_bytes(),
        Mode::Secret,
    );
    if let Some((cert, key)) = &ca.intermediate {
        set.add(
            &paths.intermediate_crt,
            to_pem(std::slice::from_ref(cert)),
            Mode::Public,
        );
        set.add(
            &paths.intermediate_key,
            key.to_pem().as_bytes(),
            Mode::Secret,
        );
    }
    set.refuse_existing("a CA is never overwritten; choose another --out")?;
    set.commit()
}

/// Loads the issuing CA of `dir`: the intermediate when present, else the root.
pub fn load_issuing_ca(dir: &Path) -> Result<Authority> {
    if !dir.is_dir() {
        bail!(
            "{}: not a CA directory (make one with `certfleet ca init --out {}`)",
            dir.display(),
            dir.display()
        );
    }
    let paths = CaPaths::new(dir);
    let root = read_cert(&paths.root_crt)?;
    if paths.intermediate_crt.exists() {
        let cert = read_cert(&paths.intermediate_crt)?;
        let key = read_key(&paths.intermediate_key)?;
        Authority::new(cert, key, vec![root])
            .with_context(|| format!("{}", paths.intermediate_crt.display()))
    } else {
        let key = read_key(&paths.root_key)?;
        Authority::new(root, key, vec![]).with_context(|| format!("{}", paths.root_crt.display()))
    }
}

fn read_cert(path: &Path) -> Result<rustls_pki_types::CertificateDer<'static>> {
    let bytes = read_input(path)?;
    parse_single_certificate(&bytes).with_context(|| format!("{}", path.display()))
}

fn read_key(path: &Path) -> Result<PrivateKey> {
    let bytes = read_input(path)?;
    PrivateKey::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
}

/// Loads the root of `dir` with its key, to sign with it (a new intermediate, a
/// cross-signed root).
pub fn load_root(dir: &Path) -> Result<Authority> {
    let paths = CaPaths::new(dir);
    let root = read_cert(&paths.root_crt)?;
    let key = read_key(&paths.root_key)?;
    Authority::new(root, key, vec![]).with_context(|| format!("{}", paths.root_crt.display()))
}

/// The issuing CA of `dir` signing as `cert` instead of its own certificate: the same
/// key under another issuer (a cross-signed copy of `intermediate.crt`).
pub fn load_as(dir: &Path, cert: &Path) -> Result<Authority> {
    let key = read_key(&CaPaths::new(dir).intermediate_key)?;
    Authority::new(read_cert(cert)?, key, vec![]).with_context(|| format!("{}", cert.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_pki::authority::init_ca;
    use certfleet_pki::keys::KeyAlgorithm;

    #[test]
    fn a_written_ca_loads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let ca = init_ca(
            "Test Root",
            KeyAlgorithm::EcdsaP256,
            30,
            Some("Test Issuing"),
        )
        .unwrap();
        let written = write_ca_dir(dir.path(), &ca).unwrap();
        assert_eq!(written.len(), 4, "{written:?}");
        let issuing = load_issuing_ca(dir.path()).unwrap();
        assert_eq!(issuing.issuing_chain().len(), 2);
        let again = write_ca_dir(dir.path(), &ca).unwrap_err().to_string();
        assert!(again.contains("a CA is never overwritten"), "{again}");
    }
}
