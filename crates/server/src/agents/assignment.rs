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
use super::records::{CertRecord, Records};
use super::renewal::due_reason;
use super::rollout::{take_turn, Candidate};
use certfleet_api::agent::{
    Assignment, CertificateState, IssuedCertificate, ListenerCheck, OutputSpec, ServiceAssignment,
};
use certfleet_pki::certs::to_pem;
use certfleet_pki::names::San;
use certfleet_platform::spec::{IssuerKind, Output, Service};
use certfleet_secrets::{resolve_for, MasterKey};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

/// Evaluates `node`'s assignment in `snapshot` at `now`.
pub async fn evaluate(
    snapshot: &Snapshot,
    node: &str,
    records: &Records,
    master_key: &MasterKey,
    now: OffsetDateTime,
) -> Result<Assignment, AgentError> {
    let view = &snapshot.view;
    let chain = snapshot.chain.as_ref().map_err(AgentError::internal)?;
    let platform = &view.platform;
    let mut services = Vec::new();
    for service in view.services_on(node) {
        let certificate = certificate_state(view, service, chain.as_deref(), records, now).await?;
        let trust = snapshot
            .trust
            .get(&service.name)
            .cloned()
            .unwrap_or_default();
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
            profile: None,
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
            let Some(reason) = judge(view, service, &record, chain, now) else {
                return Ok(issued(record));
            };
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
            let expired = now >= record.not_after;
            if expired
                || take_turn(records, &candidate, now)
                    .await
                    .map_err(AgentError::internal)?
            {
                Ok(wanted(reason))
            } else {
                Ok(issued(record))
            }
        }
        IssuerKind::External => {
            let csr = records
                .csr(platform, &service.name)
                .await
                .map_err(AgentError::internal)?;
            Ok(match csr {
                Some(csr) if csr.request == request_of(service) => CertificateState::Awaiting {
                    reason: "the CSR is with the external CA's administrator; the reply is awaited"
                        .into(),
                },
                _ => wanted("the external CA needs a CSR"),
            })
        }
        IssuerKind::SelfSigned | IssuerKind::Acme => Ok(CertificateState::Awaiting {
            reason: format!(
                "{} certificates are not supported by agents yet",
                service.issuer.name()
            ),
        }),
    }
}

fn wanted(reason: &str) -> CertificateState {
    CertificateState::Wanted {
        reason: reason.to_owned(),
    }
}

/// Why a stored certificate must be replaced, if it must: it is not what the model asks
/// for, not from the CA that issues now, or due for renewal ([`due_reason`]).
fn judge(
    view: &PlatformView,
    service: &Service,
    record: &CertRecord,
    chain: &[CertificateDer<'static>],
    now: OffsetDateTime,
) -> Option<&'static str> {
    if record.request != request_of(service) {
        return Some("the model asks for other names, subject, usage or key");
    }
    let current_chain: Vec<String> = chain
        .iter()
        .map(|c| to_pem(std::slice::from_ref(c)))
        .collect();
    if record.chain_pem != current_chain {
        return Some("the platform's internal CA changed");
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
        bits: output.bits,
        mode: None,
        owner: None,
        group: None,
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
