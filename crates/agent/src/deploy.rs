//! One service's deployment, start to end: the node's key, a CSR when the server wants
//! one (or holds a certificate for another key), the outputs rendered and installed, the
//! hook, the check, and on a failed hook or check the previous files put back and the
//! hook run again. The answer is the report sent to the server.

use crate::check;
use crate::client::AgentClient;
use crate::config::AgentConfig;
use crate::data_dir::{AgentState, DataDir, OutputRecord};
use crate::error::{AgentError, Result};
use crate::hooks;
use crate::install::{self, Installation};
use crate::material;
use crate::outputs::{self, Material, PlannedOutput, ServiceInputs};
use crate::passwords::Passwords;
use crate::request;
use crate::service_key;
use certfleet_api::agent::{
    CertificateState, CheckResult, DeployedFile, DeploymentOutcome, DeploymentReport, HookResult,
    IssuedCertificate, ServiceAssignment,
};
use certfleet_pki::keys::PrivateKey;
use certfleet_platform::paths::Layout;
use std::time::Duration;
use time::OffsetDateTime;

/// What a deployment works with.
pub struct Deployer<'a> {
    /// The data directory.
    pub data: &'a DataDir,
    /// The node's configuration (its hooks).
    pub config: &'a AgentConfig,
    /// The server.
    pub client: &'a AgentClient,
    /// Where output paths are placed.
    pub layout: &'a Layout,
    /// The shortest time a listener is given to serve a new leaf after the hook (the
    /// service's hook time limit when that is longer: see [`check::window`]).
    pub check_patience: Duration,
}

/// How an attempt ended, before it becomes a report.
struct Attempt {
    outcome: DeploymentOutcome,
    thumbprint: Option<String>,
    outputs: Vec<PlannedOutput>,
    hook: Option<HookResult>,
    check: Option<CheckResult>,
    error: Option<String>,
}

impl Attempt {
    fn early(outcome: DeploymentOutcome, error: String) -> Self {
        Attempt {
            outcome,
            thumbprint: None,
            outputs: Vec::new(),
            hook: None,
            check: None,
            error: Some(error),
        }
    }
}

impl Deployer<'_> {
    /// Deploys `assignment` (of revision `revision`) and says how it went.
    pub fn service(
        &self,
        revision: u64,
        assignment: &ServiceAssignment,
        state: &mut AgentState,
        passwords: &mut Passwords,
    ) -> DeploymentReport {
        let service = assignment.service.as_str();
        let attempt = match self.attempt(assignment, state, passwords) {
            Ok(attempt) => attempt,
            Err(e) => Attempt::early(DeploymentOutcome::Refused, e.to_string()),
        };
        if let Err(e) = passwords.save() {
            tracing::error!(service, error = %e, "cannot keep the keystore passwords");
        }
        let thumbprint = match attempt.outcome {
            DeploymentOutcome::Current => attempt.thumbprint.clone(),
            _ => state.deployed.get(service).cloned(),
        };
        if attempt.outcome == DeploymentOutcome::Current {
            record(state, service, &attempt);
        }
        let outcome = outcome_name(attempt.outcome);
        let check = attempt.check.as_ref().map(|c| c.detail.as_str());
        match &attempt.error {
            Some(error) => tracing::warn!(service, outcome, error, "deployment"),
            None => tracing::info!(service, outcome, check, "deployment"),
        }
        DeploymentReport {
            revision,
            service: service.to_owned(),
            outcome: attempt.outcome,
            thumbprint,
            outputs: deployed_files(&attempt.outputs),
            hook: attempt.hook,
            check: attempt.check,
            error: attempt.error,
            agent_version: crate::VERSION.to_owned(),
            time: OffsetDateTime::now_utc(),
        }
    }

    fn attempt(
        &self,
        assignment: &ServiceAssignment,
        state: &AgentState,
        passwords: &mut Passwords,
    ) -> Result<Attempt> {
        let service = assignment.service.as_str();
        let rekey =
            assignment.new_key && matches!(assignment.certificate, CertificateState::Wanted { .. });
        let key = if rekey {
            service_key::make_new(self.data, service, &assignment.key)?
        } else {
            service_key::load_or_make(self.data, service, &assignment.key)?
        };
        let issued = match self.certificate(assignment, &key)? {
            Ok(issued) => issued,
            Err(waiting) => return Ok(Attempt::early(DeploymentOutcome::Waiting, waiting)),
        };
        let chain = issued
            .chain_pem
            .iter()
            .map(|pem| material::first_certificate(&format!("service {service}: chain"), pem))
            .collect::<Result<Vec<_>>>()?;
        let leaf =
            material::first_certificate(&format!("service {service}: leaf"), &issued.leaf_pem)?;
        let thumbprint = material::sha256_hex(leaf.as_ref());
        let cert_material = Material {
            key: &key,
            leaf: leaf.clone(),
            chain,
        };
        let trusted = outputs::anchors(service, &assignment.trust)?;
        let planned = outputs::plan(
            &ServiceInputs {
                service,
                specs: &assignment.outputs,
                material: &cert_material,
                trusted: &trusted,
                layout: self.layout,
                salt: &state.salt,
                prior: &state.outputs,
            },
            passwords,
        )?;
        // A hook the node does not define: refuse before touching any file.
        if let Some(name) = &assignment.hook {
            if let Err(unknown) = hooks::command(self.config, name) {
                return Ok(Attempt::early(
                    DeploymentOutcome::Refused,
                    unknown.to_string(),
                ));
            }
        }
        let installation = install::install(planned.iter().flat_map(|o| o.files.iter()))?;
        // Files written now, or written earlier but never confirmed by a hook and a check
        // (rendered again because their record is not current: an agent stopped between
        // writing and its hook, say): either way the hook and the check are due.
        let changed =
            installation.changed() || planned.iter().any(|output| !output.files.is_empty());
        let mut attempt = Attempt {
            outcome: DeploymentOutcome::Current,
            thumbprint: Some(thumbprint.clone()),
            outputs: planned,
            hook: None,
            check: None,
            error: None,
        };
        if !changed {
            // Nothing to reload; the check says whether the service serves it.
            attempt.check = Some(self.check(
                assignment,
                &attempt.outputs,
                leaf.as_ref(),
                &thumbprint,
                Duration::ZERO,
            ));
            return Ok(attempt);
        }
        if let Some(name) = &assignment.hook {
            let hook = self.run_hook(name, assignment);
            let ok = hook.ok;
            attempt.hook = Some(hook);
            if !ok {
                let why = hook_failure(attempt.hook.as_ref());
                return Ok(self.roll_back(assignment, &installation, attempt, why));
            }
        }
        let check = self.check(
            assignment,
            &attempt.outputs,
            leaf.as_ref(),
            &thumbprint,
            check::window(self.check_patience, hook_timeout(assignment)),
        );
        let ok = check.ok;
        let detail = check.detail.clone();
        attempt.check = Some(check);
        if !ok {
            let why = format!("the check failed: {detail}");
            return Ok(self.roll_back(assignment, &installation, attempt, why));
        }
        Ok(attempt)
    }

    /// The issued certificate for `key`, asking for one with a CSR when needed; `Err`
    /// with the reason while it is awaited.
    fn certificate(
        &self,
        assignment: &ServiceAssignment,
        key: &PrivateKey,
    ) -> Result<std::result::Result<IssuedCertificate, String>> {
        let service = assignment.service.as_str();
        let needs_csr = match &assignment.certificate {
            CertificateState::Awaiting { reason } => return Ok(Err(reason.clone())),
            CertificateState::Wanted { reason } => {
                tracing::info!(service, reason, "the server wants a CSR");
                true
            }
            CertificateState::Issued(issued) => {
                let leaf = material::first_certificate(
                    &format!("service {service}: leaf"),
                    &issued.leaf_pem,
                )?;
                let mismatch = !material::certifies(service, &leaf, key)?;
                if mismatch {
                    tracing::info!(
                        service,
                        "the issued certificate is not for the node's key; sending a CSR"
                    );
                }
                mismatch
            }
        };
        let state = if needs_csr {
            self.client
                .request_certificate(request::for_service(assignment, key)?)?
        } else {
            assignment.certificate.clone()
        };
        match state {
            CertificateState::Issued(issued) => {
                let leaf = material::first_certificate(
                    &format!("service {service}: leaf"),
                    &issued.leaf_pem,
                )?;
                if material::certifies(service, &leaf, key)? {
                    Ok(Ok(issued))
                } else {
                    Err(AgentError::Crypto(format!(
                        "service {service}: the server's certificate is not for the key the node sent"
                    )))
                }
            }
            CertificateState::Awaiting { reason } | CertificateState::Wanted { reason } => {
                Ok(Err(reason))
            }
        }
    }

    fn run_hook(&self, name: &str, assignment: &ServiceAssignment) -> HookResult {
        match hooks::run(self.config, name, hook_timeout(assignment)) {
            Ok(result) => result,
            // Checked before anything was installed; kept for a configuration that lost
            // the hook in between.
            Err(e) => HookResult {
                name: name.to_owned(),
                ok: false,
                exit_code: None,
                timed_out: false,
                output: e.to_string(),
            },
        }
    }

    fn check(
        &self,
        assignment: &ServiceAssignment,
        outputs: &[PlannedOutput],
        leaf: &[u8],
        thumbprint: &str,
        patience: Duration,
    ) -> CheckResult {
        if assignment.checks.is_empty() {
            check::files(outputs, leaf)
        } else {
            check::listeners(&assignment.checks, thumbprint, patience)
        }
    }

    /// Puts the previous files back and runs the hook again.
    fn roll_back(
        &self,
        assignment: &ServiceAssignment,
        installation: &Installation,
        mut attempt: Attempt,
        why: String,
    ) -> Attempt {
        let mut error = why;
        if let Err(e) = installation.rollback() {
            error.push_str(&format!("; putting the previous files back failed: {e}"));
        }
        if let Some(name) = &assignment.hook {
            let again = self.run_hook(name, assignment);
            if !again.ok {
                error.push_str(&format!(
                    "; the hook failed again with the previous files: {}",
                    hook_failure(Some(&again))
                ));
            }
        }
        attempt.outcome = DeploymentOutcome::RolledBack;
        attempt.thumbprint = None;
        attempt.error = Some(error);
        attempt
    }
}

/// The service's hook time limit (at least a second).
fn hook_timeout(assignment: &ServiceAssignment) -> Duration {
    Duration::from_secs(assignment.hook_timeout_seconds.max(1))
}

fn hook_failure(hook: Option<&HookResult>) -> String {
    let Some(h) = hook else {
        return "the hook failed".into();
    };
    let how = if h.timed_out {
        format!("the hook '{}' ran past its time limit", h.name)
    } else {
        match h.exit_code {
            Some(code) => format!("the hook '{}' exited with {code}", h.name),
            None => format!("the hook '{}' failed", h.name),
        }
    };
    // Its last line says why, most of the time.
    match h.output.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(last) if !h.timed_out => format!("{how} ({})", last.trim()),
        _ => how,
    }
}

/// The report's name of an outcome (`current`, `rolled_back`, ...).
pub fn outcome_name(outcome: DeploymentOutcome) -> &'static str {
    match outcome {
        DeploymentOutcome::Current => "current",
        DeploymentOutcome::RolledBack => "rolled_back",
        DeploymentOutcome::Refused => "refused",
        DeploymentOutcome::Waiting => "waiting",
    }
}

/// Every file of the outputs as it is on the node now.
fn deployed_files(outputs: &[PlannedOutput]) -> Vec<DeployedFile> {
    outputs
        .iter()
        .flat_map(|o| o.all_files.iter())
        .filter_map(|path| {
            let bytes = zeroize::Zeroizing::new(std::fs::read(path).ok()?);
            Some(DeployedFile {
                path: path.display().to_string(),
                sha256: material::sha256_hex(&bytes),
            })
        })
        .collect()
}

/// Remembers what each output of a current service was made from and holds.
fn record(state: &mut AgentState, service: &str, attempt: &Attempt) {
    for output in &attempt.outputs {
        let files = output
            .all_files
            .iter()
            .filter_map(|path| {
                let bytes = zeroize::Zeroizing::new(std::fs::read(path).ok()?);
                Some((path.display().to_string(), material::sha256_hex(&bytes)))
            })
            .collect();
        state.outputs.insert(
            output.path.clone(),
            OutputRecord {
                digest: output.digest.clone(),
                files,
            },
        );
    }
    if let Some(thumbprint) = &attempt.thumbprint {
        state
            .deployed
            .insert(service.to_owned(), thumbprint.clone());
    }
}
