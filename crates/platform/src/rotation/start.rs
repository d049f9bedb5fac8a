//! `certfleet rotate`: starting a CA or keys rotation (the new CA in `next/`, the record
//! in phase trust) and asking for a rollback. Nothing here changes an output: each
//! following apply carries out one phase.

use super::new_ca::{create_private_dir, make_next, next_dir, NewCaRequest};
use super::record::{record_file, Driver, Kind, Phase, Record};
use super::report::rollback_possible;
use crate::engine::load_model;
use crate::paths::Layout;
use crate::run::{preview, ApplyLock, Target};
use crate::spec::{IssuerKind, Platform};
use crate::state::State;
use anyhow::{bail, Context, Result};
use certfleet_api::admin::plan_apply::RotationJson;
use std::path::Path;
use time::OffsetDateTime;

/// `rotate ca`'s choices.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaRotation {
    /// A new intermediate under the existing root, instead of a new root.
    pub intermediate: bool,
    /// Also sign the new root with the old one (root rotations).
    pub cross_sign: bool,
}

/// `rotate keys`' choices.
#[derive(Debug, Clone, Default)]
pub struct KeysRotation {
    /// The services to re-key; empty: every internal-CA and self-signed service.
    pub services: Vec<String>,
    /// Ignore maintenance windows (recorded; the offline apply has none).
    pub now: bool,
}

/// The model and its layout.
fn open(target: &Target<'_>) -> Result<(Platform, Layout)> {
    let platform = load_model(target.model)?;
    let layout = Layout::new(target.model, target.root, &platform.name, target.cwd);
    if let Some(confinement) = layout.confinement()? {
        confinement.check(layout.state_dir())?;
    }
    Ok((platform, layout))
}

/// The `rotate` subcommand that rolls back a rotation of `kind`.
fn command_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Keys => "certfleet rotate keys --rollback",
        _ => "certfleet rotate ca --rollback",
    }
}

fn refuse_running(state_dir: &Path) -> Result<()> {
    if let Some(running) = Record::load(state_dir)? {
        let back = if rollback_possible(&running) {
            format!(", or roll it back with {}", command_of(running.kind))
        } else {
            String::new()
        };
        bail!(
            "{}: a {} rotation is already running, in phase {} of 3 ({}) since {}; finish it with apply{back} before starting another",
            record_file(state_dir).display(),
            running.kind,
            running.phase.number(),
            running.phase,
            running.phase_started
        );
    }
    Ok(())
}

/// The rotation as plan now sees it.
fn answer(target: &Target<'_>) -> Result<RotationJson> {
    preview(target)?
        .rotation
        .context("the rotation record vanished while it was read back")
}

/// Starts a root or intermediate rotation: makes the new CA in `<ca_dir>/next/` and the
/// record in phase trust.
pub fn start_ca(target: &Target<'_>, how: CaRotation) -> Result<RotationJson> {
    {
        let _lock = ApplyLock::acquire(target)?;
        let (platform, layout) = open(target)?;
        refuse_running(layout.state_dir())?;
        if !platform.uses_internal_ca() {
            bail!(
                "{}: platform '{}' has no service with ca = \"internal\", so there is no internal CA to rotate (certfleet rotate keys gives services new keys)",
                target.model.display(),
                platform.name
            );
        }
        if how.intermediate && how.cross_sign {
            bail!("--cross-sign goes with a root rotation: a new intermediate under the same root is trusted already");
        }
        let ca_dir = layout.ca_dir(&platform.ca_dir)?;
        if let Some(confinement) = layout.confinement()? {
            confinement.check(&ca_dir)?;
        }
        let kind = if how.intermediate {
            Kind::Intermediate
        } else {
            Kind::Root
        };
        let now = OffsetDateTime::now_utc();
        let made = make_next(
            &ca_dir,
            &NewCaRequest {
                platform: &platform.name,
                key: platform.ca_key,
                kind,
                cross_sign: how.cross_sign,
                now,
            },
        )?;
        let record = Record::ca_started(
            kind,
            now,
            &next_dir(&ca_dir),
            how.cross_sign,
            made,
            Driver::Apply,
        );
        let saved =
            create_private_dir(layout.state_dir()).and_then(|()| record.save(layout.state_dir()));
        if let Err(err) = saved {
            // Without a record the new CA is nobody's: take it away again.
            let _ = std::fs::remove_dir_all(next_dir(&ca_dir));
            return Err(err.into());
        }
    }
    answer(target)
}

/// Starts a keys rotation of `how.services` (all internal-CA and self-signed services
/// when empty).
pub fn start_keys(target: &Target<'_>, how: &KeysRotation) -> Result<RotationJson> {
    {
        let _lock = ApplyLock::acquire(target)?;
        let (platform, layout) = open(target)?;
        refuse_running(layout.state_dir())?;
        let keyed =
            |issuer: IssuerKind| matches!(issuer, IssuerKind::Internal | IssuerKind::SelfSigned);
        for name in &how.services {
            match platform.service(name) {
                None => bail!(
                    "--service {name}: {} has no service of that name",
                    target.model.display()
                ),
                Some(s) if !keyed(s.issuer) || s.csr_file.is_some() => bail!(
                    "--service {name}: its key is not certfleet's to replace (ca = \"{}\"{}); only services of the internal CA or self-signed ones are re-keyed",
                    s.issuer.name(),
                    if s.csr_file.is_some() { ", with its own CSR" } else { "" }
                ),
                Some(_) => {}
            }
        }
        let state = State::load(&layout.state_file())?;
        let chosen = platform
            .services
            .iter()
            .filter(|s| keyed(s.issuer) && s.csr_file.is_none())
            .filter(|s| how.services.is_empty() || how.services.contains(&s.name));
        let mut record = Record::start(
            Kind::Keys,
            OffsetDateTime::now_utc(),
            format!(
                "started: new keys for {}{}",
                if how.services.is_empty() {
                    "every service".to_owned()
                } else {
                    how.services.join(", ")
                },
                if how.now {
                    ", maintenance windows ignored (--now)"
                } else {
                    ""
                }
            ),
        );
        for service in chosen {
            if let Some(prior) = state.services.get(&service.name) {
                record
                    .keys_before
                    .insert(service.name.clone(), prior.sha1_thumbprint.clone());
            }
        }
        if record.keys_before.is_empty() {
            bail!(
                "{}: no service to re-key has a certificate yet; run apply first",
                layout.state_file().display()
            );
        }
        record.services = how.services.clone();
        record.now = how.now;
        create_private_dir(layout.state_dir())?;
        record.save(layout.state_dir())?;
    }
    answer(target)
}

/// Rolls back the running rotation of the `ca` (root, intermediate) or `keys` command:
/// from trust to rollback-trust, from reissue to rollback-reissue; refused in retire.
pub fn rollback(target: &Target<'_>, keys: bool) -> Result<RotationJson> {
    {
        let _lock = ApplyLock::acquire(target)?;
        let (_, layout) = open(target)?;
        let file = record_file(layout.state_dir());
        let Some(mut record) = Record::load(layout.state_dir())? else {
            bail!(
                "{}: no rotation is running, nothing to roll back",
                file.display()
            );
        };
        record.refuse_server_driven(layout.state_dir())?;
        if keys != (record.kind == Kind::Keys) {
            bail!(
                "{}: the rotation running is a {} rotation; roll it back with {}",
                file.display(),
                record.kind,
                command_of(record.kind)
            );
        }
        let back = match record.phase {
            Phase::Trust => Phase::RollbackTrust,
            Phase::Reissue if record.kind != Kind::Keys => Phase::RollbackReissue,
            Phase::Reissue => bail!(
                "{}: the keys rotation is in phase 2 (reissue): the old keys are being replaced and cannot come back; finish the rotation with apply",
                file.display()
            ),
            Phase::Retire => bail!(
                "{}: the {} rotation is in phase 3 (retire): the old CA has started leaving truststores; finish the rotation with apply (then rotate again to change CA)",
                file.display(),
                record.kind
            ),
            Phase::RollbackReissue | Phase::RollbackTrust => bail!(
                "{}: the rotation is already rolling back (phase {}); run apply to finish the rollback",
                file.display(),
                record.phase
            ),
        };
        let from = record.phase;
        record.enter(
            back,
            OffsetDateTime::now_utc(),
            format!("rollback asked in phase {from}"),
        );
        record.save(layout.state_dir())?;
    }
    answer(target)
}

#[cfg(test)]
#[path = "start_tests.rs"]
mod tests;
