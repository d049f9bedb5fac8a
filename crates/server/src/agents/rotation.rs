//! Rotations the server carries out through a platform's agents: starting one (the new
//! CA in `<ca_dir>/next/` and the record `STATE/rotation.json`, made with the platform
//! crate's functions as `certfleet rotate --model` makes them, the record marked
//! `driven_by = "server"` so that `apply` leaves it alone), rolling the running one back,
//! and the answer that shows it ([`RotationStatus`]). [`super::rotation_advance`] moves
//! the phases on as the nodes report.

use super::model::PlatformView;
use super::records::Records;
use crate::http::errors::ApiError;
use certfleet_api::admin::plan_apply::{RotationJson, RotationNode, RotationStatus};
use certfleet_api::admin::plan_apply::{RotationRequest, RotationRequestKind};
use certfleet_pki::certs::parse_certificates;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_platform::rotation::new_ca::{make_next, next_dir, NewCaRequest};
use certfleet_platform::rotation::record::{archive_dir, Driver, Kind, Phase, Record};
use certfleet_platform::rotation::report::{rollback_possible, rotation_json, Findings};
use certfleet_platform::spec::IssuerKind;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Where the server keeps what it last saw of a platform's rotation
/// (`agents/rotations/<platform>`); changed by compare-and-swap only, so that of the
/// servers sharing a store one moves a phase on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The rotation's start (its record's `started`).
    pub started: String,
    /// The phase the nodes were judged in; the phase moved to once it finished.
    pub phase: String,
    /// Each node in that phase.
    pub nodes: Vec<RotationNode>,
    /// Whether `rotation_stalled` was raised for this phase.
    #[serde(default)]
    pub stalled_alerted: bool,
}

/// The store path of `platform`'s [`Progress`].
pub fn progress_key(platform: &str) -> [&str; 2] {
    ["rotations", platform]
}

fn conflict(view: &PlatformView, message: String) -> ApiError {
    ApiError::conflict(format!("platform {}: {message}", view.platform.name))
}

/// Starts the rotation `request` asks for, or rolls the running one back; the record as
/// it now stands.
pub async fn start_or_roll_back(
    view: &PlatformView,
    request: &RotationRequest,
    records: &Records,
    now: OffsetDateTime,
) -> Result<Record, ApiError> {
    if request.rollback {
        return roll_back(view, request.kind);
    }
    if let Some(running) = &view.rotation {
        return Err(conflict(
            view,
            format!(
                "a {} rotation is already running, in phase {} of 3 ({}) since {}{}; let it finish before starting another",
                running.kind,
                running.phase.number(),
                running.phase,
                running.phase_started,
                if rollback_possible(running) {
                    ", or roll it back"
                } else {
                    ""
                }
            ),
        ));
    }
    let record = match request.kind {
        RotationRequestKind::Ca => start_ca(view, request, now)?,
        RotationRequestKind::Keys => start_keys(view, request, records, now).await?,
    };
    save(view, &record)?;
    Ok(record)
}

fn save(view: &PlatformView, record: &Record) -> Result<(), ApiError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&view.state_dir)
        .map_err(|err| ApiError::internal(format!("{}: {err}", view.state_dir.display())))?;
    record
        .save(&view.state_dir)
        .map_err(|err| ApiError::internal(err.to_string()))
}

fn start_ca(
    view: &PlatformView,
    request: &RotationRequest,
    now: OffsetDateTime,
) -> Result<Record, ApiError> {
    let Some(ca_dir) = &view.ca_dir else {
        return Err(conflict(
            view,
            "no service has ca = \"internal\", so there is no internal CA to rotate (a keys rotation gives services new keys)".into(),
        ));
    };
    if request.intermediate && request.cross_sign {
        return Err(ApiError::bad_request(
            "cross_sign goes with a root rotation: a new intermediate under the same root is trusted already",
        ));
    }
    let kind = if request.intermediate {
        Kind::Intermediate
    } else {
        Kind::Root
    };
    let made = make_next(
        ca_dir,
        &NewCaRequest {
            platform: &view.platform.name,
            key: view.platform.ca_key,
            kind,
            cross_sign: request.cross_sign,
            now,
        },
    )
    .map_err(|err| conflict(view, err.to_string()))?;
    let record = Record::ca_started(
        kind,
        now,
        &next_dir(ca_dir),
        request.cross_sign,
        made,
        Driver::Server,
    );
    if let Err(err) = save(view, &record) {
        // Without a record the new CA is nobody's: take it away again.
        let _ = std::fs::remove_dir_all(next_dir(ca_dir));
        return Err(err);
    }
    Ok(record)
}

async fn start_keys(
    view: &PlatformView,
    request: &RotationRequest,
    records: &Records,
    now: OffsetDateTime,
) -> Result<Record, ApiError> {
    let platform = &view.platform;
    for name in &request.services {
        match platform.service(name) {
            None => {
                return Err(ApiError::not_found(format!(
                    "services: platform {} has no service {name}",
                    platform.name
                )))
            }
            Some(s) if s.issuer != IssuerKind::Internal => {
                return Err(ApiError::unprocessable(format!(
                    "services: {name} has ca = \"{}\"; the agents re-key the internal CA's services (a self-signed service's key is rotated with certfleet rotate keys --model)",
                    s.issuer.name()
                )))
            }
            Some(_) => {}
        }
    }
    let mut record = Record::start(
        Kind::Keys,
        now,
        format!(
            "started by the server: new keys for {}{}",
            if request.services.is_empty() {
                "every service of the internal CA".to_owned()
            } else {
                request.services.join(", ")
            },
            if request.now {
                ", maintenance windows ignored (now)"
            } else {
                ""
            }
        ),
    );
    let chosen = platform
        .services
        .iter()
        .filter(|s| s.issuer == IssuerKind::Internal)
        .filter(|s| request.services.is_empty() || request.services.contains(&s.name));
    for service in chosen {
        let stored = records
            .cert(&platform.name, &service.name)
            .await
            .map_err(ApiError::internal)?;
        let leaf = stored.and_then(|cert| {
            parse_certificates(cert.leaf_pem.as_bytes())
                .ok()
                .and_then(|list| list.into_iter().next())
        });
        if let Some(leaf) = leaf {
            record
                .keys_before
                .insert(service.name.clone(), sha1_thumbprint(&leaf));
        }
    }
    if record.keys_before.is_empty() {
        return Err(conflict(
            view,
            "no service to re-key has a certificate issued through agents yet".into(),
        ));
    }
    record.services = request.services.clone();
    record.now = request.now;
    record.driven_by = Driver::Server;
    Ok(record)
}

/// Rolls back the running rotation: trust → rollback-trust, reissue (CA rotations) →
/// rollback-reissue; refused in retire and for a rotation `apply` drives.
fn roll_back(view: &PlatformView, kind: RotationRequestKind) -> Result<Record, ApiError> {
    let Some(mut record) = view.rotation.clone() else {
        return Err(conflict(
            view,
            "no rotation is running, nothing to roll back".into(),
        ));
    };
    if record.driven_by != Driver::Server {
        return Err(conflict(
            view,
            "the rotation running is carried out by apply (certfleet rotate --model); roll it back with certfleet rotate --model ... --rollback".into(),
        ));
    }
    if (kind == RotationRequestKind::Keys) != (record.kind == Kind::Keys) {
        return Err(conflict(
            view,
            format!(
                "the rotation running is a {} rotation; roll it back as kind {}",
                record.kind,
                if record.kind == Kind::Keys {
                    "keys"
                } else {
                    "ca"
                }
            ),
        ));
    }
    let back = match record.phase {
        Phase::Trust => Phase::RollbackTrust,
        Phase::Reissue if record.kind != Kind::Keys => Phase::RollbackReissue,
        Phase::Reissue => {
            return Err(conflict(
                view,
                "the keys rotation is in phase 2 (reissue): the old keys are being replaced and cannot come back; let it finish".into(),
            ))
        }
        Phase::Retire => {
            return Err(conflict(
                view,
                format!(
                    "the {} rotation is in phase 3 (retire): the old CA has started leaving truststores; let it finish (then rotate again to change CA)",
                    record.kind
                ),
            ))
        }
        Phase::RollbackReissue | Phase::RollbackTrust => {
            return Err(conflict(
                view,
                format!(
                    "the rotation is already rolling back (phase {})",
                    record.phase
                ),
            ))
        }
    };
    let from = record.phase;
    record.enter(
        back,
        OffsetDateTime::now_utc(),
        format!("rollback asked in phase {from}"),
    );
    save(view, &record)?;
    Ok(record)
}

/// What the server does next in the record's phase.
fn server_next(record: &Record) -> String {
    let moves =
        "The server moves on once every node has reported it deployed, its hook and check passing.";
    let what = match (record.phase, record.kind == Kind::Keys) {
        (Phase::Trust, false) => "The nodes' truststores get the new CA beside the old one; no certificate changes.",
        (Phase::Reissue, false) => "The services get certificates from the new CA, one rollout turn at a time; truststores keep both CAs.",
        (Phase::Retire, false) => "The old CA leaves the truststores; then its files move to retired/ and the rotation ends.",
        (Phase::RollbackReissue, false) => "The services get certificates from the old CA again, one rollout turn at a time.",
        (Phase::RollbackTrust, false) => "The new CA leaves the truststores; then it moves to abandoned/ and the rollback ends.",
        (Phase::Trust, true) => "Nothing changes yet (the CA that vouches for the keys stays trusted).",
        (Phase::Reissue, true) => "The services get new keys and certificates, one rollout turn at a time.",
        (Phase::Retire | Phase::RollbackReissue | Phase::RollbackTrust, true) => "The keys rotation ends.",
    };
    format!("{what} {moves}")
}

/// Whether `record`'s phase is older than `stall_after` at `now`.
pub fn stalled(record: &Record, stall_after: Duration, now: OffsetDateTime) -> bool {
    OffsetDateTime::parse(&record.phase_started, &Rfc3339)
        .is_ok_and(|at| (now - at).unsigned_abs() > stall_after && now > at)
}

/// The rotation part of the answer for `record`.
pub fn rotation_of(record: &Record, stall_after: Duration, now: OffsetDateTime) -> RotationJson {
    let mut json = rotation_json(
        record,
        &Findings {
            changes: &[],
            services: &[],
            needs_cross_sign: Vec::new(),
            now,
        },
    );
    if record.driven_by == Driver::Server {
        json.next = server_next(record);
        json.stalled = stalled(record, stall_after, now);
    }
    json
}

/// `view`'s rotation as it stands, with the nodes' progress the server last saw.
pub async fn status(
    view: &PlatformView,
    records: &Records,
    stall_after: Duration,
    now: OffsetDateTime,
) -> Result<RotationStatus, ApiError> {
    let platform = view.platform.name.clone();
    let Some(record) = &view.rotation else {
        return Ok(RotationStatus {
            platform,
            rotation: None,
            driven_by: None,
            nodes: Vec::new(),
            finished: last_finished(view),
        });
    };
    let nodes = if record.driven_by == Driver::Server {
        records
            .get::<Progress>(&progress_key(&platform))
            .await
            .map_err(ApiError::internal)?
            .map(|(progress, _)| progress)
            .filter(|p| p.started == record.started && p.phase == record.phase.name())
            .map(|p| p.nodes)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(RotationStatus {
        platform,
        rotation: Some(rotation_of(record, stall_after, now)),
        driven_by: Some(
            match record.driven_by {
                Driver::Server => "server",
                Driver::Apply => "apply",
            }
            .into(),
        ),
        nodes,
        finished: None,
    })
}

/// The last line of the newest archived rotation, when there is one.
fn last_finished(view: &PlatformView) -> Option<String> {
    let dir = archive_dir(&view.state_dir);
    let newest = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .max()?;
    let record: Record = serde_json::from_slice(&std::fs::read(newest).ok()?).ok()?;
    let last = record.history.last()?;
    Some(format!(
        "{} rotation started {}: {} ({})",
        record.kind, record.started, last.what, last.at
    ))
}
