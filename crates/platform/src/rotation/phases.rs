//! What each rotation phase means for the internal CA, worked out from the CA directory
//! and the rotation record alone (no evaluation), so that `apply` and the server's agents
//! use the same answer: which authority signs leaves, and which certificates the peers of
//! internal-CA services trust; and, in a keys rotation, which services get a new key.
//!
//! | phase            | signs with | peers trust |
//! |------------------|------------|-------------|
//! | trust            | old        | old + new   |
//! | reissue          | new        | old + new   |
//! | retire           | new        | new         |
//! | rollback-reissue | old        | old + new   |
//! | rollback-trust   | old        | old         |

use super::new_ca::{cross_file, next_dir};
use super::record::{Kind, Phase, Record};
use crate::ca_dir::load_as;
use crate::error::{PlatformError, Result};
use certfleet_pki::authority::Authority;
use rustls_pki_types::CertificateDer;
use std::path::Path;

/// Loads an issuing CA from a CA directory (the layout of `ca init`).
pub type LoadCa<'a> = dyn Fn(&Path) -> std::result::Result<Authority, String> + 'a;

/// The internal CA as one phase uses it.
pub struct Signing {
    /// Signs leaves.
    pub authority: Authority,
    /// What the peers of internal-CA services trust: issuing chains, old first, each
    /// certificate once.
    pub anchors: Vec<CertificateDer<'static>>,
}

/// Which CA signs, and which CAs are trusted, in a phase of a CA rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseUse {
    /// The new CA signs (else the old).
    pub new_signs: bool,
    /// The old CA is trusted.
    pub trust_old: bool,
    /// The new CA is trusted.
    pub trust_new: bool,
}

/// The table above, for `phase`.
pub fn phase_use(phase: Phase) -> PhaseUse {
    let (new_signs, trust_old, trust_new) = match phase {
        Phase::Trust | Phase::RollbackReissue => (false, true, true),
        Phase::Reissue => (true, true, true),
        Phase::Retire => (true, false, true),
        Phase::RollbackTrust => (false, true, false),
    };
    PhaseUse {
        new_signs,
        trust_old,
        trust_new,
    }
}

/// The signing authority and the anchors of the internal CA in `ca_dir`, given the
/// rotation `record` (none, or a keys rotation: the CA as it is). During a CA rotation
/// the new CA is read from `next/`; in phase reissue of a cross-signed rotation the new
/// intermediate signs as `next/cross.crt` (its copy signed by the old root), so the
/// chain handed out ends at the old root, which every peer still trusts.
pub fn signing(ca_dir: &Path, record: Option<&Record>, load: &LoadCa<'_>) -> Result<Signing> {
    let load_dir = |dir: &Path| {
        load(dir).map_err(|message| PlatformError::File {
            path: dir.to_path_buf(),
            message,
        })
    };
    let old = load_dir(ca_dir)?;
    let record = match record {
        Some(r) if r.kind != Kind::Keys => r,
        _ => {
            let anchors = old.issuing_chain();
            return Ok(Signing {
                authority: old,
                anchors,
            });
        }
    };
    let next = next_dir(ca_dir);
    if !next.is_dir() {
        return Err(PlatformError::File {
            path: next,
            message: format!(
                "missing, but a {} rotation is in phase {} (STATE/rotation.json); put the new CA back, or roll back",
                record.kind, record.phase
            ),
        });
    }
    let new = load_dir(&next)?;
    let usage = phase_use(record.phase);
    let mut anchors: Vec<CertificateDer<'static>> = Vec::new();
    let chains = [
        (usage.trust_old, old.issuing_chain()),
        (usage.trust_new, new.issuing_chain()),
    ];
    for (wanted, chain) in chains {
        for cert in chain.into_iter().filter(|_| wanted) {
            if !anchors.contains(&cert) {
                anchors.push(cert);
            }
        }
    }
    let authority = match (usage.new_signs, record.cross_signed, record.phase) {
        (true, true, Phase::Reissue) => {
            let cross = cross_file(ca_dir);
            load_as(&next, &cross).map_err(|e| PlatformError::File {
                path: cross.clone(),
                message: format!("{e:#}"),
            })?
        }
        (true, ..) => new,
        (false, ..) => old,
    };
    Ok(Signing { authority, anchors })
}

/// In phase reissue of a keys rotation, why `service` gets a new key: it still holds the
/// certificate (SHA-1 `current`) it had when the rotation started.
pub fn forced_rekey(
    record: Option<&Record>,
    service: &str,
    current: Option<&str>,
) -> Option<String> {
    let record = record.filter(|r| r.kind == Kind::Keys && r.phase == Phase::Reissue)?;
    let before = record.keys_before.get(service)?;
    (Some(before.as_str()) == current).then(|| {
        format!(
            "rotate keys, started {}",
            record.started.get(..10).unwrap_or(&record.started)
        )
    })
}

#[cfg(test)]
#[path = "phases_tests.rs"]
mod tests;
