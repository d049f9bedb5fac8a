//! The platform's internal CA: loaded from `ca_dir` (the layout of `ca init`), or made on
//! the first apply as a root and an issuing intermediate, never overwriting part of an
//! existing CA. While a rotation runs (`STATE/rotation.json`) its phase decides which CA
//! signs and which are trusted ([`crate::rotation::phases`]).

use crate::engine::{Evaluation, Mode, Options};
use crate::error::{PlatformError, Result};
use crate::paths::Layout;
use crate::render::FileWrite;
use crate::rotation::phases::signing;
use crate::rotation::record::Record;
use crate::spec::Platform;
use crate::trust::Anchor;
use certfleet_api::admin::plan_apply::Change;
use certfleet_pki::authority::{init_ca, Authority};
use certfleet_pki::certs::to_pem;
use certfleet_pki::inspect::describe_certificate;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use rustls_pki_types::CertificateDer;
use std::path::PathBuf;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Validity of a new internal CA, in days.
const CA_DAYS: u32 = 3650;

/// A certificate as a trust anchor: DER, subject and SHA-1.
pub fn anchor(der: &CertificateDer<'_>, now: OffsetDateTime) -> Anchor {
    let subject = describe_certificate(der, now)
        .map(|i| i.subject)
        .unwrap_or_else(|_| "(unreadable certificate)".into());
    Anchor {
        der: der.as_ref().to_vec(),
        subject,
        sha1: sha1_thumbprint(der),
    }
}

/// The internal CA of one evaluation.
pub struct Ca {
    /// The issuing authority, when it exists (or was just made, in apply).
    pub authority: Option<Authority>,
    /// What the peers of internal-CA services trust (empty when the CA does not exist
    /// yet): its issuing chain, or during a rotation the old and new CAs' as the phase
    /// says.
    pub anchors: Vec<Anchor>,
    /// Its directory, when the platform uses it.
    pub dir: Option<PathBuf>,
    /// The rotation under way, when one is.
    pub rotation: Option<Record>,
}

/// Loads the internal CA, or in apply makes it (root and issuing intermediate) and adds
/// its files to `eval`; in plan a missing CA is reported as a change.
pub fn internal_ca(
    platform: &Platform,
    layout: &Layout,
    opts: &Options<'_>,
    mode: Mode,
    eval: &mut Evaluation,
) -> Result<Ca> {
    let rotation = Record::load(layout.state_dir())?;
    if !platform.uses_internal_ca() {
        return Ok(Ca {
            authority: None,
            anchors: Vec::new(),
            dir: None,
            rotation,
        });
    }
    let dir = layout.ca_dir(&platform.ca_dir)?;
    if dir.join("root.crt").exists() {
        let signing = signing(&dir, rotation.as_ref(), opts.load_ca)?;
        return Ok(Ca {
            authority: Some(signing.authority),
            anchors: signing
                .anchors
                .iter()
                .map(|c| anchor(c, opts.now))
                .collect(),
            dir: Some(dir),
            rotation,
        });
    }
    // Never overwrite part of a CA: a directory holding keys but no root certificate is
    // somebody's, and must be sorted out by hand.
    for name in ["root.key", "intermediate.crt", "intermediate.key"] {
        if dir.join(name).exists() {
            return Err(PlatformError::File {
                path: dir.clone(),
                message: format!(
                    "holds {name} but no root.crt; put the CA's root.crt back, or point ca_dir elsewhere to have a new CA made"
                ),
            });
        }
    }
    let root_cn = format!("{} Root CA", platform.name);
    let issuing_cn = format!("{} Issuing CA", platform.name);
    eval.changes.push(Change {
        service: "ca".into(),
        action: "issue".into(),
        path: Some(dir.display().to_string()),
        reason: format!(
            "create the internal CA ({root_cn} and {issuing_cn}, {})",
            platform.ca_key.name()
        ),
    });
    if mode == Mode::Plan {
        return Ok(Ca {
            authority: None,
            anchors: Vec::new(),
            dir: Some(dir),
            rotation,
        });
    }
    let new = init_ca(&root_cn, platform.ca_key, CA_DAYS, Some(&issuing_cn))
        .map_err(|e| PlatformError::service("ca", e))?;
    let (icert, ikey) = new
        .intermediate
        .ok_or_else(|| PlatformError::service("ca", "the intermediate was not made"))?;
    let files = [
        (
            "root.crt",
            to_pem(std::slice::from_ref(&new.root_cert)).into_bytes(),
            false,
        ),
        ("root.key", new.root_key.to_pem().as_bytes().to_vec(), true),
        (
            "intermediate.crt",
            to_pem(std::slice::from_ref(&icert)).into_bytes(),
            false,
        ),
        ("intermediate.key", ikey.to_pem().as_bytes().to_vec(), true),
    ];
    for (name, contents, secret) in files {
        eval.files.push(FileWrite {
            path: dir.join(name),
            contents: Zeroizing::new(contents),
            secret,
        });
    }
    eval.private_dirs.push(dir.clone());
    let authority = Authority::new(icert, ikey, vec![new.root_cert])
        .map_err(|e| PlatformError::service("ca", e))?;
    Ok(Ca {
        anchors: authority
            .issuing_chain()
            .iter()
            .map(|c| anchor(c, opts.now))
            .collect(),
        authority: Some(authority),
        dir: Some(dir),
        rotation,
    })
}
