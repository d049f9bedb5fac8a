//! After an apply: moving the rotation to its next phase once the phase is done (every
//! file written, every reload succeeded, none pending), and ending it after retire
//! (`next/` promoted, the old CA retired) or after rollback-trust (`next/` abandoned),
//! the record then archived.

use super::new_ca::{abandon, promote};
use super::record::{Kind, Phase, Record};
use crate::error::Result;
use std::path::Path;
use time::OffsetDateTime;

/// What became of the rotation.
#[derive(Debug, PartialEq, Eq)]
pub enum Advance {
    /// The phase is not done (a reload failed or is pending): it stays.
    Held,
    /// The rotation moved to this phase.
    Moved(Phase),
    /// The rotation ended; the sentence says how.
    Finished(String),
}

/// Moves `record` on after an apply in which `done` (every reload ran and succeeded and
/// none is pending). `ca_dir` is the internal CA's directory.
pub fn after_apply(
    state_dir: &Path,
    ca_dir: Option<&Path>,
    mut record: Record,
    done: bool,
    now: OffsetDateTime,
) -> Result<Advance> {
    if !done {
        return Ok(Advance::Held);
    }
    if let Some(next) = record.phase.next() {
        let what = format!("phase {} done", record.phase);
        record.enter(next, now, what);
        record.save(state_dir)?;
        return Ok(Advance::Moved(next));
    }
    let what = match (record.phase, record.kind, ca_dir) {
        (Phase::Retire, Kind::Root | Kind::Intermediate, Some(dir)) => {
            let retired = promote(dir, now)?;
            format!(
                "finished: the new CA is in place, the old one in {}",
                retired.display()
            )
        }
        (Phase::RollbackTrust, Kind::Root | Kind::Intermediate, Some(dir)) => {
            let abandoned = abandon(dir, now)?;
            format!(
                "rolled back: the old CA stays, the new one was moved to {}",
                abandoned.display()
            )
        }
        (Phase::RollbackTrust, ..) => "rolled back".to_owned(),
        _ => "finished".to_owned(),
    };
    super::staging::clear(state_dir)?;
    let kept = record.archive(state_dir, now, what.clone())?;
    Ok(Advance::Finished(format!(
        "{what}; the record is kept in {}",
        kept.display()
    )))
}
