//! A node's assignment, evaluated from the platform model: per service on the node its
//! key algorithm, where its certificate stands, what it trusts (the derived trust set),
//! the files it reads, its hook and the listeners to check. The revision is a hash of
//! all of that, so it changes exactly when the content does, across restarts too.
//!
//! A stored certificate that must be replaced (other names, another CA, renewal due)
//! is `Wanted` only once its service holds a turn of its rollout group
//! ([`super::rollout`]); until then the node keeps its current certificate.

use super::errors::AgentError;
use super::model::{request_of, PlatformView};
use super::model_cache::Snapshot;
use super::profile::profile_of;
use super::records::{CertRecord, Records};
use super::renewal::due_reason;
use super::rollout::{take_turn, Candidate};
use certfleet_api::agent::{
    Assignment, CertificateState, IssuedCertificate, ListenerCheck, OutputSpec, ServiceAssignment,
};
use certfleet_pki::certs::to_pem;
use certfleet_pki::names::San;
use certfleet_platform::maintenance;
use certfleet_platform::spec::{IssuerKind, Output, Service};
use certfleet_secrets::{resolve_for, MasterKey};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

/// Evaluates `node`'s assignment in `snapshot` at `now`, with the platform's stored
/// certificates as of `certs_generation` ([`super::model_cache::ModelCache::certs_generation`]);
/// a certificate with less than `warn` left is replaced outside maintenance windows too.
pub async fn evaluate(
    snapshot: &Snapshot,
    node: &str,
    records: &Records,
    master_key: &MasterKey,
    (now, warn): (OffsetDateTime, Duration),
    certs_generation: u64,
) -> Result<Assignment, AgentError> {
    let view = &snapshot.view;
    let chain = snapshot.chain.as_ref().map_err(AgentError::internal)?;
    let platform = &view.platform;
    let all_trust = snapshot.trust_now(certs_generation, records).await?;
    let mut services = Vec::new();
    for service in view.services_on(node) {
        if service.is_shared() {
            services.push(shared_assignment(service));
            continue;
        }
        let certificate =
            certificate_state(view, service, chain.as_deref(), records, now, warn).await?;
        let new_key = matches!(certificate, CertificateState::Wanted { .. })
            && rekeyed_now(view, service, records).await?;
        let trust = all_trust.get(&service.name).cloned().unwrap_or_default();
        let outputs = service
            .outputs
            .iter()
            .map(|output| output_spec(view, service, output, master_key))
            .collect::<Result<Vec<_>, _>>()?;
        services.push(ServiceAssignment {
            service: service.name.clone(),
            key: service.key.name().to_owned(),
            certificate,
            trust,
            outputs,
            hook: service.hook.clone(),
            hook_timeout_seconds: service.reload_timeout.as_secs(),
            checks: checks_of(service),
            profile: Some(profile_of(service)),
            new_key,
        });
    }
    let mut assignment = Assignment {
        platform: platform.name.clone(),
        node: node.to_owned(),
        revision: 0,
        services,
    };
    assignment.revision = revision_of(&assignment)?;
    Ok(assignment)
}

/// A shared certificate's place in each of its nodes' assignments: `Awaiting`
/// ([`super::shared`]), with no files, hook or checks.
fn shared_assignment(service: &Service) -> ServiceAssignment {
    ServiceAssignment {
        service: service.name.clone(),
        key: service.key.name().to_owned(),
        certificate: super::shared::awaiting(),
        trust: Vec::new(),
        outputs: Vec::new(),
        hook: None,
        hook_timeout_seconds: service.reload_timeout.as_secs(),
        checks: Vec::new(),
        profile: None,
        new_key: false,
    }
}

/// The revision of `assignment`: the first 8 bytes of the SHA-256 of its content (its own
/// revision field aside).
pub fn revision_of(assignment: &Assignment) -> Result<u64, AgentError> {
    let content =
        serde_json::to_vec(&(&assignment.platform, &assignment.node, &assignment.services))
            .map_err(AgentError::internal)?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &content);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    Ok(u64::from_be_bytes(first))
}

/// Where `service`'s certificate stands.
async fn certificate_state(
    view: &PlatformView,
    service: &Service,
    chain: Option<&[CertificateDer<'static>]>,
    records: &Records,
    now: OffsetDateTime,
    warn: Duration,
) -> Result<CertificateState, AgentError> {
    let platform = &view.platform.name;
    match service.issuer {
        IssuerKind::Internal => {
            let Some(chain) = chain else {
                return Ok(CertificateState::Awaiting {
                    reason: view.missing_ca_reason(),
                });
            };
            let stored = records
                .cert(platform, &service.name)
                .await
                .map_err(AgentError::internal)?;
            let Some(record) = stored else {
                return Ok(wanted("no certificate has been issued yet"));
            };
            let reason = match judge(view, service, &record, Some(chain), now) {
                Some(reason) => reason.to_owned(),
                None => match view.rekey_reason(&service.name, &record.leaf_pem) {
                    Some(rekey) => rekey,
                    None => return Ok(issued(record)),
                },
            };
            replace_in_turn(view, service, record, &reason, records, now, warn).await
        }
        IssuerKind::SelfSigned => {
            let stored = records
                .cert(platform, &service.name)
                .await
                .map_err(AgentError::internal)?;
            let Some(record) = stored else {
                return Ok(wanted("no self-signed certificate has been made yet"));
            };
            match judge(view, service, &record, None, now) {
                None => Ok(issued(record)),
                Some(reason) => {
                    replace_in_turn(view, service, record, reason, records, now, warn).await
                }
            }
        }
        IssuerKind::External => external_state(view, service, records, now, warn).await,
        IssuerKind::Acme => {
            if let Some(waiting) = super::acme_orders::awaiting(view, service, records).await? {
                return Ok(waiting);
            }
            let stored = records
                .cert(platform, &service.name)
                .await
                .map_err(AgentError::internal)?;
            let Some(record) = stored else {
                return Ok(wanted("no ACME certificate has been ordered yet"));
            };
            match judge(view, service, &record, None, now) {
                None => Ok(issued(record)),
                Some(reason) => {
                    replace_in_turn(view, service, record, reason, records, now, warn).await
                }
            }
        }
    }
}

/// Where an external CA's service stands: its imported reply while it is what the model
/// asks and not due; `Awaiting` while its node's CSR is with the CA's administrator;
/// `Wanted` (in its rollout group's turn, unless expired) when a new CSR is needed.
async fn external_state(
    view: &PlatformView,
    service: &Service,
    records: &Records,
    now: OffsetDateTime,
    warn: Duration,
) -> Result<CertificateState, AgentError> {
    let platform = &view.platform.name;
    let stored = records
        .cert(platform, &service.name)
        .await
        .map_err(AgentError::internal)?;
    let csr = records
        .csr(platform, &service.name)
        .await
        .map_err(AgentError::internal)?;
    let csr_waiting = csr.is_some_and(|csr| csr.request == request_of(service));
    let reason = match &stored {
        Some(record) => match judge(view, service, record, None, now) {
            None => return Ok(issued(record.clone())),
            Some(reason) => reason,
        },
        None => "the external CA needs a CSR",
    };
    if csr_waiting {
        return Ok(CertificateState::Awaiting {
            reason: "the CSR is with the external CA's administrator; the reply is awaited (certfleet node csrs, certfleet node reply)"
                .into(),
        });
    }
    match stored {
        Some(record) => replace_in_turn(view, service, record, reason, records, now, warn).await,
        None => Ok(wanted(reason)),
    }
}

/// `Wanted` for `reason` once `service` holds a turn of its rollout group (or its
/// certificate expired); until then the stored `record`, which its node keeps. Outside
/// the service's maintenance windows no turn is taken, unless the certificate has less
/// than `warn` left or an administrator asked for the renewal with `--now`.
async fn replace_in_turn(
    view: &PlatformView,
    service: &Service,
    record: CertRecord,
    reason: &str,
    records: &Records,
    now: OffsetDateTime,
    warn: Duration,
) -> Result<CertificateState, AgentError> {
    let expired = now >= record.not_after;
    if expired {
        return Ok(wanted(reason));
    }
    // A keys rotation started with `--now` ignores the maintenance windows too.
    let rotation_now = view.rotation.as_ref().is_some_and(|r| r.now);
    let urgent = record.renewal_now || rotation_now || now >= record.not_after - warn;
    if !urgent && !maintenance::open_at(&service.maintenance, now) {
        return Ok(issued(record));
    }
    let platform = &view.platform.name;
    // A certificate still valid waits for its service's turn in its group.
    let candidate = Candidate {
        platform,
        group: service.rollout_group(),
        max_unavailable: view.platform.max_unavailable,
        service: &service.name,
        node: &service.node,
        previous_sha256: &record.sha256,
        reason,
    };
    if take_turn(records, &candidate, now)
        .await
        .map_err(AgentError::internal)?
    {
        Ok(wanted(reason))
    } else {
        Ok(issued(record))
    }
}

/// Whether a keys rotation wants `service` re-keyed now: its stored certificate is still
/// the one it had when the rotation started.
async fn rekeyed_now(
    view: &PlatformView,
    service: &Service,
    records: &Records,
) -> Result<bool, AgentError> {
    if view.rotation.is_none() {
        return Ok(false);
    }
    let stored = records
        .cert(&view.platform.name, &service.name)
        .await
        .map_err(AgentError::internal)?;
    Ok(stored.is_some_and(|record| view.rekey_reason(&service.name, &record.leaf_pem).is_some()))
}

fn wanted(reason: &str) -> CertificateState {
    CertificateState::Wanted {
        reason: reason.to_owned(),
    }
}

/// Why a stored certificate must be replaced, if it must: it is not what the model asks
/// for, not from the internal CA that issues now (`chain`, for internal-CA services), or
/// due for renewal ([`due_reason`]).
fn judge(
    view: &PlatformView,
    service: &Service,
    record: &CertRecord,
    chain: Option<&[CertificateDer<'static>]>,
    now: OffsetDateTime,
) -> Option<&'static str> {
    if record.request != request_of(service) {
        return Some("the model asks for other names, subject, usage or key");
    }
    if let Some(chain) = chain {
        let current_chain: Vec<String> = chain
            .iter()
            .map(|c| to_pem(std::slice::from_ref(c)))
            .collect();
        if record.chain_pem != current_chain {
            return Some("the platform's internal CA changed");
        }
    }
    due_reason(&view.platform.name, &service.name, record, now)
}

fn issued(record: CertRecord) -> CertificateState {
    CertificateState::Issued(IssuedCertificate {
        leaf_pem: record.leaf_pem,
        chain_pem: record.chain_pem,
        sha256: record.sha256,
        not_after: record.not_after,
    })
}

fn output_spec(
    view: &PlatformView,
    service: &Service,
    output: &Output,
    master_key: &MasterKey,
) -> Result<OutputSpec, AgentError> {
    let open = |value: &Option<String>, field: &str| {
        value
            .as_deref()
            .map(|written| {
                resolve_for(written, Some(master_key), field)
                    .map(|plain| plain.to_string())
                    .map_err(|err| {
                        AgentError::conflict(format!(
                            "platform {} service {} output {}: {field}: {err}",
                            view.platform.name, service.name, output.path
                        ))
                    })
            })
            .transpose()
    };
    Ok(OutputSpec {
        format: output.format.name().to_owned(),
        path: output.path.clone(),
        alias: output.alias.clone(),
        password: open(&output.password, "service.output.password")?,
        key_password: open(&output.key_password, "service.output.key_password")?,
        legacy: output.legacy,
        include_trust: output.include_trust,
        bits: output.bits,
        mode: output.access.mode,
        owner: output.access.owner.clone(),
        group: output.access.group.clone(),
    })
}

/// The service's listeners with the name to send: its first DNS name, else its CN.
fn checks_of(service: &Service) -> Vec<ListenerCheck> {
    let server_name = service
        .sans
        .iter()
        .find_map(|san| match san {
            San::Dns(name) => Some(name.clone()),
            San::Ip(_) => None,
        })
        .unwrap_or_else(|| service.cn.clone());
    service
        .listeners
        .iter()
        .map(|address| ListenerCheck {
            address: address.clone(),
            server_name: server_name.clone(),
        })
        .collect()
}
