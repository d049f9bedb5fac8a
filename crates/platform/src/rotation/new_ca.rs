//! The CA files of a rotation: the new CA made beside the old in `<ca_dir>/next/` (same
//! file names as the CA directory), and the moves that end a rotation: promoting `next/`
//! (the old files to `retired/<time>/`) or abandoning it (to `abandoned/<time>/`).

use super::record::{timestamp, Kind, Thumbprints};
use crate::ca_dir::{load_issuing_ca, load_root, CaPaths};
use crate::error::{PlatformError, Result};
use certfleet_pki::authority::{init_ca, Authority};
use certfleet_pki::certs::to_pem;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::rollover::{cross_sign, sign_intermediate};
use rustls_pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// The files a CA directory may hold, in the order they are moved.
const CA_FILES: [&str; 5] = [
    "root.crt",
    "root.key",
    "intermediate.crt",
    "intermediate.key",
    "cross.crt",
];

/// Validity of a new CA, in days (as the first one's).
const CA_DAYS: u32 = 3650;

/// `<ca_dir>/next/`: the new CA while a rotation runs.
pub fn next_dir(ca_dir: &Path) -> PathBuf {
    ca_dir.join("next")
}

/// `<ca_dir>/next/cross.crt`: the new issuing intermediate signed by the old root.
pub fn cross_file(ca_dir: &Path) -> PathBuf {
    next_dir(ca_dir).join("cross.crt")
}

/// What to make.
pub struct NewCaRequest<'a> {
    /// The platform's name, for the new CA's names.
    pub platform: &'a str,
    /// Its key type (the model's `ca_key`).
    pub key: KeyAlgorithm,
    /// Root or intermediate.
    pub kind: Kind,
    /// Also make `next/cross.crt`, the new intermediate signed by the old root (root
    /// rotations of a CA with an intermediate).
    pub cross_sign: bool,
    /// Now, for the names and the directory.
    pub now: OffsetDateTime,
}

/// The thumbprints of the CA rotated from and to.
pub struct Made {
    /// The current CA.
    pub old: Thumbprints,
    /// The CA made in `next/`.
    pub new: Thumbprints,
}

fn file_err(path: &Path, message: impl Into<String>) -> PlatformError {
    PlatformError::File {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn thumbprints(authority: &Authority) -> Thumbprints {
    let chain = authority.issuing_chain();
    Thumbprints {
        root: chain.last().map(|c| sha1_thumbprint(c)).unwrap_or_default(),
        issuing: sha1_thumbprint(authority.certificate()),
    }
}

/// The thumbprints of the CA in `dir`.
pub fn thumbprints_of(dir: &Path) -> Result<Thumbprints> {
    let authority = load_issuing_ca(dir).map_err(|e| file_err(dir, format!("{e:#}")))?;
    Ok(thumbprints(&authority))
}

/// Makes the new CA in `<ca_dir>/next/`: a root rotation makes a new root (and an issuing
/// intermediate when the current CA has one, and when asked `cross.crt`, that
/// intermediate signed by the old root: the old root's path length of 1 leaves room for
/// one CA between it and a leaf, not for a cross-signed root and an intermediate); an intermediate
/// rotation makes a new intermediate signed by the current root key, with a copy of the
/// current root as `next/root.crt`. Refuses a `next/` that already exists.
pub fn make_next(ca_dir: &Path, request: &NewCaRequest<'_>) -> Result<Made> {
    let paths = CaPaths::new(ca_dir);
    if !paths.root_crt.exists() {
        return Err(file_err(
            ca_dir,
            "holds no CA yet (root.crt); run apply once to make it, then rotate",
        ));
    }
    let next = next_dir(ca_dir);
    if next.exists() {
        return Err(file_err(
            &next,
            "already exists: a new CA was left here by an earlier rotation; move it away to start another",
        ));
    }
    let old = load_issuing_ca(ca_dir).map_err(|e| file_err(ca_dir, format!("{e:#}")))?;
    let has_intermediate = paths.intermediate_crt.exists();
    if request.cross_sign && !has_intermediate {
        return Err(file_err(
            ca_dir,
            "the CA has no intermediate, and its root allows no CA below it (path length 0), so nothing signed by a new CA can chain to it; rotate without --cross-sign",
        ));
    }
    // The date and time (UTC, to the minute) tell this CA from the one it replaces and
    // from any made by an earlier rotation the same day.
    let made = format!(
        "{} {:02}:{:02}",
        request.now.date(),
        request.now.hour(),
        request.now.minute()
    );
    let root_cn = format!("{} Root CA {made}", request.platform);
    let issuing_cn = format!("{} Issuing CA {made}", request.platform);
    let pki = |e: certfleet_pki::PkiError| file_err(ca_dir, e.to_string());
    let mut files: Vec<(&str, Vec<u8>, bool)> = Vec::new();
    let pem =
        |c: &CertificateDer<'_>| to_pem(std::slice::from_ref(&c.clone().into_owned())).into_bytes();
    match request.kind {
        Kind::Root => {
            let intermediate = has_intermediate.then_some(issuing_cn.as_str());
            let new = init_ca(&root_cn, request.key, CA_DAYS, intermediate).map_err(pki)?;
            files.push(("root.crt", pem(&new.root_cert), false));
            files.push(("root.key", new.root_key.to_pem().as_bytes().to_vec(), true));
            if let Some((cert, key)) = &new.intermediate {
                files.push(("intermediate.crt", pem(cert), false));
                files.push(("intermediate.key", key.to_pem().as_bytes().to_vec(), true));
            }
            if let (true, Some((cert, _))) = (request.cross_sign, &new.intermediate) {
                let old_root = load_root(ca_dir).map_err(|e| file_err(ca_dir, format!("{e:#}")))?;
                let cross = cross_sign(&old_root, cert).map_err(pki)?;
                files.push(("cross.crt", pem(&cross), false));
            }
        }
        Kind::Intermediate => {
            if !has_intermediate {
                return Err(file_err(
                    ca_dir,
                    "the CA has no intermediate to replace; rotate the root instead (certfleet rotate ca without --intermediate)",
                ));
            }
            let root = load_root(ca_dir).map_err(|e| file_err(ca_dir, format!("{e:#}")))?;
            let (cert, key) =
                sign_intermediate(&root, &issuing_cn, request.key, CA_DAYS).map_err(pki)?;
            files.push(("root.crt", pem(root.certificate()), false));
            files.push(("intermediate.crt", pem(&cert), false));
            files.push(("intermediate.key", key.to_pem().as_bytes().to_vec(), true));
        }
        Kind::Keys => return Err(file_err(ca_dir, "a keys rotation makes no new CA")),
    }
    create_private_dir(&next)?;
    for (name, contents, secret) in files {
        write_file(&next.join(name), &contents, secret)?;
    }
    Ok(Made {
        old: thumbprints(&old),
        new: thumbprints_of(&next)?,
    })
}

/// Ends a rotation: every file of `next/` replaces its namesake in `ca_dir`, whose old
/// files go to `retired/<time>/` (`cross.crt` goes there too, no longer needed); returns
/// that directory.
pub fn promote(ca_dir: &Path, at: OffsetDateTime) -> Result<PathBuf> {
    let next = next_dir(ca_dir);
    let retired = stamped(&ca_dir.join("retired"), at);
    create_private_dir(&retired)?;
    for name in CA_FILES {
        let new = next.join(name);
        if !new.exists() {
            continue;
        }
        if name == "cross.crt" {
            rename(&new, &retired.join(name))?;
            continue;
        }
        let current = ca_dir.join(name);
        if current.exists() {
            rename(&current, &retired.join(name))?;
        }
        rename(&new, &current)?;
    }
    std::fs::remove_dir(&next).map_err(|e| PlatformError::io(&next, &e))?;
    Ok(retired)
}

/// Ends a rollback: `next/` moves to `abandoned/<time>/`; returns that directory.
pub fn abandon(ca_dir: &Path, at: OffsetDateTime) -> Result<PathBuf> {
    let next = next_dir(ca_dir);
    let abandoned = stamped(&ca_dir.join("abandoned"), at);
    if let Some(parent) = abandoned.parent() {
        create_private_dir(parent)?;
    }
    rename(&next, &abandoned)?;
    Ok(abandoned)
}

/// `base/<time>`, with a suffix when that exists already.
fn stamped(base: &Path, at: OffsetDateTime) -> PathBuf {
    let name = timestamp(at).replace(':', "-");
    let mut dir = base.join(&name);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = base.join(format!("{name}-{n}"));
    }
    dir
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to)
        .map_err(|e| file_err(from, format!("cannot move it to {}: {e}", to.display())))
}

/// Creates `dir` and missing parents, the new ones mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    for new in missing.into_iter().rev() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(new)
            .map_err(|e| PlatformError::io(new, &e))?;
        std::fs::set_permissions(new, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| PlatformError::io(new, &e))?;
    }
    Ok(())
}

/// Writes a file atomically: keys 0600, certificates 0644.
pub(crate) fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    certfleet_secrets::write_private_file(path, contents, true)
        .map_err(|e| file_err(path, e.to_string()))?;
    if !secret {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| PlatformError::io(path, &e))?;
    }
    Ok(())
}
