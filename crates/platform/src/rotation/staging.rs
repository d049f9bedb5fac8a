//! Keys rotations of self-signed services, which are their own trust anchors: in phase
//! trust a new key and self-signed certificate are made and kept in
//! `STATE/rotation/next/<service>.{key,crt}` (key 0600), and the peers trust them beside
//! the current one, which is kept in `STATE/rotation/prev/<service>.crt`; phase reissue
//! deploys them, the peers trusting the kept one and the new one until the phase ends,
//! even when a reload failed; phase retire leaves the new one alone. The directory goes
//! when the rotation ends.

use super::record::{Kind, Phase, Record};
use crate::ca::anchor;
use crate::engine::Evaluation;
use crate::error::{PlatformError, Result};
use crate::paths::Layout;
use crate::render::FileWrite;
use crate::spec::{IssuerKind, Platform, Service};
use crate::trust::Anchor;
use certfleet_api::admin::plan_apply::Change;
use certfleet_pki::certs::{parse_certificates, to_pem};
use certfleet_pki::issue::issue_leaf_with_subject;
use certfleet_pki::keys::PrivateKey;
use rustls_pki_types::CertificateDer;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A new self-signed certificate and its key, made ahead of its deployment.
pub struct Staged {
    /// The new key.
    pub key: PrivateKey,
    /// The new self-signed certificate.
    pub cert: CertificateDer<'static>,
}

/// A new key the rotation asks for: why, and the staged certificate to deploy (a
/// self-signed service), else a fresh key is made.
pub struct ForcedRekey {
    /// The change's reason.
    pub reason: String,
    /// The key and certificate made in phase trust.
    pub staged: Option<Staged>,
}

/// `STATE/rotation/`: what a keys rotation makes ahead of time.
pub fn rotation_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("rotation")
}

fn staged_files(state_dir: &Path, service: &str) -> (PathBuf, PathBuf) {
    let dir = rotation_dir(state_dir).join("next");
    (
        dir.join(format!("{service}.key")),
        dir.join(format!("{service}.crt")),
    )
}

/// True when `record` is a keys rotation that re-keys `service` through a staged
/// certificate (a self-signed service it re-keys), in a phase where that matters.
pub fn stages(record: Option<&Record>, service: &Service) -> bool {
    record.is_some_and(|r| {
        r.kind == Kind::Keys
            && matches!(r.phase, Phase::Trust | Phase::Reissue)
            && service.issuer == IssuerKind::SelfSigned
            && r.keys_before.contains_key(&service.name)
    })
}

/// The staged key and certificate of `service`, when made.
pub fn load(state_dir: &Path, service: &str) -> Result<Option<Staged>> {
    let (key_path, cert_path) = staged_files(state_dir, service);
    if !cert_path.exists() || !key_path.exists() {
        return Ok(None);
    }
    let bad = |path: &Path, e: String| PlatformError::State {
        path: path.to_path_buf(),
        message: format!("{e}; remove it to have it made again"),
    };
    let read = |path: &Path| std::fs::read(path).map_err(|e| PlatformError::io(path, &e));
    let key =
        PrivateKey::from_bytes(&read(&key_path)?).map_err(|e| bad(&key_path, e.to_string()))?;
    let cert = parse_certificates(&read(&cert_path)?)
        .map_err(|e| bad(&cert_path, e.to_string()))?
        .into_iter()
        .next()
        .ok_or_else(|| bad(&cert_path, "no certificate".into()))?;
    Ok(Some(Staged { key, cert }))
}

/// Makes a new key and self-signed certificate for `service`, with the files that keep
/// them until phase reissue deploys them.
pub fn make(state_dir: &Path, service: &Service) -> Result<(Staged, Vec<FileWrite>)> {
    let key =
        PrivateKey::generate(service.key).map_err(|e| PlatformError::service(&service.name, e))?;
    let leaf =
        issue_leaf_with_subject(&crate::certs::request(service), &service.subject, key, None)
            .map_err(|e| PlatformError::service(&service.name, e))?;
    let (key_path, cert_path) = staged_files(state_dir, &service.name);
    let files = vec![
        FileWrite {
            path: key_path,
            contents: Zeroizing::new(leaf.key.to_pem().as_bytes().to_vec()),
            secret: true,
        },
        FileWrite {
            path: cert_path,
            contents: Zeroizing::new(to_pem(std::slice::from_ref(&leaf.cert)).into_bytes()),
            secret: false,
        },
    ];
    Ok((
        Staged {
            key: leaf.key,
            cert: leaf.cert,
        },
        files,
    ))
}

/// `STATE/rotation/prev/<service>.crt`: the certificate a staged one replaces, kept so
/// that its peers trust it until phase retire whatever is deployed meanwhile (a phase
/// reissue whose reload failed leaves the old certificate served).
fn previous_file(state_dir: &Path, service: &str) -> PathBuf {
    rotation_dir(state_dir)
        .join("prev")
        .join(format!("{service}.crt"))
}

/// The first certificate of the PEM file at `path`, when it holds one.
fn first_certificate(path: &Path) -> Option<CertificateDer<'static>> {
    let bytes = std::fs::read(path).ok()?;
    parse_certificates(&bytes).ok()?.into_iter().next()
}

/// The file keeping the certificate being replaced, made from what is deployed now
/// unless it was kept already.
fn keep_previous(layout: &Layout, service: &str) -> Option<FileWrite> {
    let state_dir = layout.state_dir();
    if previous_file(state_dir, service).exists() {
        return None;
    }
    let current = first_certificate(&layout.cert_file(service))?;
    Some(FileWrite {
        path: previous_file(state_dir, service),
        contents: Zeroizing::new(to_pem(std::slice::from_ref(&current)).into_bytes()),
        secret: false,
    })
}

/// Where `service`'s staged certificate is (for the change's path).
pub fn cert_file(state_dir: &Path, service: &str) -> PathBuf {
    staged_files(state_dir, service).1
}

/// Removes `STATE/rotation/` when a rotation ends.
pub fn clear(state_dir: &Path) -> Result<()> {
    let dir = rotation_dir(state_dir);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PlatformError::io(&dir, &e)),
    }
}

/// What an evaluation takes from the staged certificates.
#[derive(Default)]
pub struct Prepared {
    /// Per staged service, the certificates its peers trust besides its current one
    /// (`None`: the new one is about to be made, in plan).
    pub anchors: BTreeMap<String, Option<Vec<Anchor>>>,
    /// Per service, the staged key and certificate phase reissue deploys.
    pub deploy: BTreeMap<String, Staged>,
}

/// In phase trust makes (in apply) or announces (in plan) the staged certificates; in
/// phase reissue loads them for deployment, the current certificate staying trusted.
pub fn prepare(
    platform: &Platform,
    layout: &Layout,
    record: Option<&Record>,
    apply: bool,
    now: OffsetDateTime,
    eval: &mut Evaluation,
) -> Result<Prepared> {
    let mut prepared = Prepared::default();
    let Some(record) = record else {
        return Ok(prepared);
    };
    let state_dir = layout.state_dir();
    for service in platform.services.iter().filter(|s| stages(Some(record), s)) {
        let name = service.name.clone();
        let existing = load(state_dir, &name)?;
        if record.phase == Phase::Trust && apply {
            if let Some(file) = keep_previous(layout, &name) {
                eval.private_dirs.push(rotation_dir(state_dir).join("prev"));
                eval.files.push(file);
            }
        }
        match (record.phase, existing) {
            (Phase::Trust, Some(staged)) => {
                prepared
                    .anchors
                    .insert(name, Some(vec![anchor(&staged.cert, now)]));
            }
            (Phase::Trust, None) => {
                let path = cert_file(state_dir, &name);
                eval.changes.push(Change {
                    service: name.clone(),
                    action: "write".into(),
                    path: Some(path.display().to_string()),
                    reason: "its new key and self-signed certificate, trusted by its peers before they are deployed (rotate keys)".into(),
                });
                if apply {
                    let (staged, files) = make(state_dir, service)?;
                    eval.private_dirs.push(rotation_dir(state_dir).join("next"));
                    eval.files.extend(files);
                    prepared
                        .anchors
                        .insert(name, Some(vec![anchor(&staged.cert, now)]));
                } else {
                    prepared.anchors.insert(name, None);
                }
            }
            (_, staged) => {
                // Through this phase the peers trust both the certificate being replaced
                // (kept in phase trust, else the one deployed now) and the new one,
                // whichever the service serves after its reload ran or failed.
                let previous = first_certificate(&previous_file(state_dir, &name))
                    .or_else(|| first_certificate(&layout.cert_file(&name)));
                let mut anchors: Vec<Anchor> =
                    previous.iter().map(|cert| anchor(cert, now)).collect();
                if let Some(staged) = &staged {
                    anchors.push(anchor(&staged.cert, now));
                }
                prepared.anchors.insert(name.clone(), Some(anchors));
                if let Some(staged) = staged {
                    prepared.deploy.insert(name, staged);
                }
            }
        }
    }
    Ok(prepared)
}
