//! The CA directory layout of `ca init --out DIR`, and loading a CA from it.
//!
//! `root.crt` and `root.key` always; `intermediate.crt` and `intermediate.key` when the
//! CA has an issuing intermediate, which then signs everything.

use crate::files::read_input;
use anyhow::{bail, Context, Result};
use certfleet_pki::authority::Authority;
use certfleet_pki::certs::parse_single_certificate;
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
