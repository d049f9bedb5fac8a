//! The rotation record, `STATE/rotation.json`: which rotation runs (root, intermediate or
//! keys), its phase, when it and the phase started, the thumbprints it goes from and to,
//! and a history of every start, phase change, rollback and finish. A finished rotation
//! is moved to `STATE/rotations/<started>.json` and kept.

use crate::error::{PlatformError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A new root and issuing intermediate.
    Root,
    /// A new issuing intermediate under the existing root.
    Intermediate,
    /// New keys for the services; the CA stays.
    Keys,
}

/// Where a rotation stands. Each apply carries out one phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// 1: peers learn to trust the new CA beside the old.
    Trust,
    /// 2: certificates are issued again by the new CA (or with new keys).
    Reissue,
    /// 3: the old CA leaves the truststores.
    Retire,
    /// Rolling back from reissue: certificates are issued by the old CA again.
    RollbackReissue,
    /// Rolling back, last step: the new CA leaves the truststores.
    RollbackTrust,
}

impl Kind {
    /// The name used in the record, the CLI and the API.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Root => "root",
            Kind::Intermediate => "intermediate",
            Kind::Keys => "keys",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Phase {
    /// The name used in the record, the CLI and the API.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Trust => "trust",
            Phase::Reissue => "reissue",
            Phase::Retire => "retire",
            Phase::RollbackReissue => "rollback-reissue",
            Phase::RollbackTrust => "rollback-trust",
        }
    }

    /// 1 to 3; rollback phases count down (rollback-reissue 2, rollback-trust 1).
    pub fn number(self) -> u32 {
        match self {
            Phase::Trust | Phase::RollbackTrust => 1,
            Phase::Reissue | Phase::RollbackReissue => 2,
            Phase::Retire => 3,
        }
    }

    /// The phase after this one, or `None` when this one finishes the rotation.
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Trust => Some(Phase::Reissue),
            Phase::Reissue => Some(Phase::Retire),
            Phase::RollbackReissue => Some(Phase::RollbackTrust),
            Phase::Retire | Phase::RollbackTrust => None,
        }
    }

    /// True for the phases of a rollback.
    pub fn is_rollback(self) -> bool {
        matches!(self, Phase::RollbackReissue | Phase::RollbackTrust)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// SHA-1 thumbprints of a CA: its root and the certificate that signs leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thumbprints {
    /// The root.
    pub root: String,
    /// The issuing CA (the root itself when the CA has no intermediate).
    pub issuing: String,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// RFC 3339.
    pub at: String,
    /// The phase entered (or finished, for the last line).
    pub phase: Phase,
    /// What happened.
    pub what: String,
}

/// `STATE/rotation.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// What is rotated.
    pub kind: Kind,
    /// The current phase.
    pub phase: Phase,
    /// When the rotation started (RFC 3339).
    pub started: String,
    /// When the current phase started (RFC 3339).
    pub phase_started: String,
    /// Keys rotations: the services re-keyed (empty: every service the internal CA
    /// issues, and every self-signed one).
    #[serde(default)]
    pub services: Vec<String>,
    /// Root rotations: whether `next/cross.crt` (the new intermediate signed by the old
    /// root) exists.
    #[serde(default)]
    pub cross_signed: bool,
    /// Keys rotations: maintenance windows are ignored (`--now`).
    #[serde(default)]
    pub now: bool,
    /// The CA rotated from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Thumbprints>,
    /// The CA rotated to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Thumbprints>,
    /// Keys rotations: each re-keyed service's certificate (SHA-1) at the start; a service
    /// still holding it in phase reissue gets a new key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys_before: BTreeMap<String, String>,
    /// Every start, phase change, rollback and finish.
    #[serde(default)]
    pub history: Vec<Event>,
    /// Who moves the rotation on: each `apply` (the default), or the certfleet server
    /// through the platform's agents (`certfleet rotate --platform`).
    #[serde(default, skip_serializing_if = "Driver::is_apply")]
    pub driven_by: Driver,
}

/// Who carries out a rotation's phases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Driver {
    /// Each `certfleet apply` of the model carries out one phase.
    #[default]
    Apply,
    /// The certfleet server moves it on as the platform's agents report.
    Server,
}

impl Driver {
    /// True for [`Driver::Apply`] (the record then leaves the field out).
    pub fn is_apply(&self) -> bool {
        *self == Driver::Apply
    }
}

/// RFC 3339 text of `at` (seconds precision).
pub fn timestamp(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// `STATE/rotation.json`.
pub fn record_file(state_dir: &Path) -> PathBuf {
    state_dir.join("rotation.json")
}

/// `STATE/rotations/`, where finished rotations are kept.
pub fn archive_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("rotations")
}

impl Record {
    /// A rotation of `kind` starting now in phase trust.
    pub fn start(kind: Kind, at: OffsetDateTime, what: String) -> Self {
        let started = timestamp(at);
        Record {
            kind,
            phase: Phase::Trust,
            started: started.clone(),
            phase_started: started.clone(),
            services: Vec::new(),
            cross_signed: false,
            now: false,
            old: None,
            new: None,
            keys_before: BTreeMap::new(),
            history: vec![Event {
                at: started,
                phase: Phase::Trust,
                what,
            }],
            driven_by: Driver::Apply,
        }
    }

    /// The record of a CA rotation just started by `driver`, the new CA made in
    /// `next_dir` (cross-signed by the old root when `cross_signed`), with the old and the
    /// new CA's thumbprints.
    pub fn ca_started(
        kind: Kind,
        at: OffsetDateTime,
        next_dir: &Path,
        cross_signed: bool,
        made: crate::rotation::new_ca::Made,
        driver: Driver,
    ) -> Self {
        let by = match driver {
            Driver::Apply => "started",
            Driver::Server => "started by the server",
        };
        let mut record = Record::start(
            kind,
            at,
            format!(
                "{by}: new {kind} CA in {}{}",
                next_dir.display(),
                if cross_signed {
                    ", cross-signed by the old root"
                } else {
                    ""
                }
            ),
        );
        record.cross_signed = cross_signed;
        record.old = Some(made.old);
        record.new = Some(made.new);
        record.driven_by = driver;
        record
    }

    /// Refuses to let `apply` touch a rotation the certfleet server drives.
    pub fn refuse_server_driven(&self, state_dir: &Path) -> Result<()> {
        if self.driven_by != Driver::Server {
            return Ok(());
        }
        Err(PlatformError::State {
            path: record_file(state_dir),
            message: format!(
                "this {} rotation (phase {} of 3, {}) is driven by the certfleet server through the platform's agents (certfleet rotate --platform); apply does not carry it out: follow it with `certfleet rotate status --platform NAME` or the server's web UI",
                self.kind,
                self.phase.number(),
                self.phase
            ),
        })
    }

    /// Reads the record under `state_dir`, or `None` when no rotation runs. A record that
    /// does not parse is refused naming the file and the field.
    pub fn load(state_dir: &Path) -> Result<Option<Self>> {
        let path = record_file(state_dir);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(PlatformError::io(&path, &err)),
        };
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let record: Record = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            PlatformError::State {
                path: path.clone(),
                message: format!(
                    "field '{field}': {}; fix the field, or move the file away to drop the rotation",
                    e.inner()
                ),
            }
        })?;
        record.check(&path)?;
        Ok(Some(record))
    }

    /// Refuses a record whose fields contradict each other.
    fn check(&self, path: &Path) -> Result<()> {
        let bad = |field: &str, message: String| PlatformError::State {
            path: path.to_path_buf(),
            message: format!("field '{field}': {message}"),
        };
        for (field, value) in [
            ("started", &self.started),
            ("phase_started", &self.phase_started),
        ] {
            OffsetDateTime::parse(value, &Rfc3339)
                .map_err(|e| bad(field, format!("'{value}' is not an RFC 3339 time ({e})")))?;
        }
        if self.kind != Kind::Root && self.cross_signed {
            return Err(bad(
                "cross_signed",
                format!(
                    "only a root rotation is cross-signed, this is a {} rotation",
                    self.kind
                ),
            ));
        }
        if self.kind != Kind::Keys && self.new.is_none() {
            return Err(bad(
                "new",
                format!("a {} rotation names the new CA's thumbprints", self.kind),
            ));
        }
        Ok(())
    }

    /// The JSON text, pretty and stable.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| PlatformError::State {
                path: "rotation.json".into(),
                message: e.to_string(),
            })
    }

    /// Writes the record under `state_dir` (atomically, owner-only).
    pub fn save(&self, state_dir: &Path) -> Result<()> {
        let path = record_file(state_dir);
        write(&path, self.to_json()?.as_bytes())
    }

    /// Moves to `phase`, noting `what` in the history.
    pub fn enter(&mut self, phase: Phase, at: OffsetDateTime, what: String) {
        self.phase = phase;
        self.phase_started = timestamp(at);
        self.history.push(Event {
            at: self.phase_started.clone(),
            phase,
            what,
        });
    }

    /// Notes the end in the history and moves the record to
    /// `STATE/rotations/<started>.json`; returns where it went.
    pub fn archive(
        mut self,
        state_dir: &Path,
        at: OffsetDateTime,
        what: String,
    ) -> Result<PathBuf> {
        self.history.push(Event {
            at: timestamp(at),
            phase: self.phase,
            what,
        });
        let dir = archive_dir(state_dir);
        std::fs::create_dir_all(&dir).map_err(|e| PlatformError::io(&dir, &e))?;
        // ':' is awkward in file names on some systems.
        let name = self.started.replace(':', "-");
        let mut target = dir.join(format!("{name}.json"));
        let mut n = 1;
        while target.exists() {
            n += 1;
            target = dir.join(format!("{name}-{n}.json"));
        }
        write(&target, self.to_json()?.as_bytes())?;
        let path = record_file(state_dir);
        std::fs::remove_file(&path).map_err(|e| PlatformError::io(&path, &e))?;
        Ok(target)
    }
}

fn write(path: &Path, contents: &[u8]) -> Result<()> {
    certfleet_secrets::write_private_file(path, contents, true).map_err(|e| PlatformError::State {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        let mut r = Record::start(Kind::Root, OffsetDateTime::UNIX_EPOCH, "started".into());
        r.new = Some(Thumbprints {
            root: "AA".into(),
            issuing: "BB".into(),
        });
        r
    }

    #[test]
    fn a_record_round_trips_and_is_archived() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Record::load(dir.path()).unwrap(), None);
        let mut record = sample();
        record.enter(
            Phase::Reissue,
            OffsetDateTime::UNIX_EPOCH,
            "trust done".into(),
        );
        record.save(dir.path()).unwrap();
        let back = Record::load(dir.path()).unwrap().unwrap();
        assert_eq!(back, record);
        assert_eq!(back.phase.number(), 2);
        assert_eq!(back.history.len(), 2);
        let text = std::fs::read_to_string(record_file(dir.path())).unwrap();
        assert!(text.contains("\"phase\": \"reissue\""), "{text}");

        let kept = back
            .archive(dir.path(), OffsetDateTime::UNIX_EPOCH, "done".into())
            .unwrap();
        assert!(!record_file(dir.path()).exists());
        assert!(kept.starts_with(archive_dir(dir.path())));
        let archived: Record = serde_json::from_slice(&std::fs::read(&kept).unwrap()).unwrap();
        assert_eq!(archived.history.last().unwrap().what, "done");
    }

    #[test]
    fn a_bad_record_names_the_file_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let text = sample()
            .to_json()
            .unwrap()
            .replace("\"trust\"", "\"sideways\"");
        std::fs::write(record_file(dir.path()), text).unwrap();
        let message = Record::load(dir.path()).unwrap_err().to_string();
        assert!(message.contains("rotation.json"), "{message}");
        assert!(message.contains("field 'phase'"), "{message}");

        let text = sample()
            .to_json()
            .unwrap()
            .replace("\"kind\": \"root\"", "\"kind\": \"root\", \"colour\": 1");
        std::fs::write(record_file(dir.path()), text).unwrap();
        let message = Record::load(dir.path()).unwrap_err().to_string();
        assert!(message.contains("colour"), "{message}");

        let mut keys = sample();
        keys.kind = Kind::Intermediate;
        keys.cross_signed = true;
        std::fs::write(record_file(dir.path()), keys.to_json().unwrap()).unwrap();
        let message = Record::load(dir.path()).unwrap_err().to_string();
        assert!(message.contains("field 'cross_signed'"), "{message}");

        let mut late = sample();
        late.phase_started = "yesterday".into();
        std::fs::write(record_file(dir.path()), late.to_json().unwrap()).unwrap();
        let message = Record::load(dir.path()).unwrap_err().to_string();
        assert!(message.contains("field 'phase_started'"), "{message}");
    }
}
