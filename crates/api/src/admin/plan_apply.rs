//! What plan and apply of a platform model answer: `GET /api/platforms/{name}` and
//! `POST /api/platforms/{name}/plan` ([`PlanJson`]), `POST /api/platforms/{name}/apply`
//! ([`ApplyJson`]), and `certfleet plan --json` and `certfleet apply --json`, which print
//! the same documents.
//!
//! Per service the answer holds its certificate's public facts (subject, names,
//! thumbprints, expiry), what it trusts and why, whom it accepts, and where its files
//! go; never a key or a password (keystore passwords stay in `passwords_file`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What `plan` found (`plan --json`, `GET /api/platforms/{name}` and
/// `POST /api/platforms/{name}/plan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlanJson {
    /// The platform's name.
    pub platform: String,
    /// What apply would change; empty when the platform is current.
    pub changes: Vec<Change>,
    /// Per service: its certificate, what it trusts and why, whom it accepts.
    pub services: Vec<ServiceReport>,
    /// The model's connections (client to server, mutual TLS or not): the edges of the
    /// derived trust graph.
    pub connections: Vec<Connection>,
    /// The state directory.
    pub state_dir: String,
    /// CSRs waiting for an external CA.
    pub pending_csrs: Vec<PendingCsrFile>,
    /// Files at output paths that certfleet did not write, which apply refuses to
    /// overwrite unless given `--adopt`.
    pub unrecorded_files: Vec<String>,
    /// The CA or key rotation under way, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationJson>,
}

/// What `apply` did (`apply --json` and `POST /api/platforms/{name}/apply`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplyJson {
    /// The platform's name.
    pub platform: String,
    /// What changed.
    pub changes: Vec<Change>,
    /// Per service: thumbprints, trust and why, allowed clients, outputs.
    pub services: Vec<ServiceReport>,
    /// The reload commands and how each ended.
    pub reloads: Vec<ReloadResult>,
    /// How many files were written.
    pub files_written: usize,
    /// The state directory.
    pub state_dir: String,
    /// What stays manual, as written to `next_steps_file`.
    pub next_steps: String,
    /// `STATE/next-steps.txt`.
    pub next_steps_file: String,
    /// `STATE/passwords.json`, when a keystore output exists (the passwords stay there).
    pub passwords_file: Option<String>,
    /// CSRs waiting for an external CA.
    pub pending_csrs: Vec<PendingCsrFile>,
    /// The CA or key rotation under way (after this apply), when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationJson>,
}

/// A CA or key rotation under way: which phase it is in, what the current phase still
/// has to write, and what the next apply does (`plan`, `apply` and `rotate ... --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RotationJson {
    /// `root`, `intermediate` or `keys`.
    pub kind: String,
    /// `trust`, `reissue`, `retire`, `rollback-reissue` or `rollback-trust`.
    pub phase: String,
    /// The phase's number, 1 to `phases` (a rollback counts down: rollback-reissue is 2,
    /// rollback-trust is 1).
    pub phase_number: u32,
    /// How many phases a rotation has (3).
    pub phases: u32,
    /// When the rotation started (RFC 3339).
    pub started: String,
    /// When the current phase started (RFC 3339).
    pub phase_started: String,
    /// Whether `--rollback` is still accepted (not once the old CA leaves truststores).
    pub rollback_possible: bool,
    /// The outputs the current phase still has to write, per node and service.
    pub remaining: Vec<RotationRemaining>,
    /// What the next apply changes, in one sentence.
    pub next: String,
    /// True when the current phase started more than 7 days ago.
    pub stalled: bool,
    /// The services whose peers' trust certfleet cannot update (no truststore output),
    /// which rely on the cross-signed root (root rotations with `--cross-sign`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs_cross_sign: Vec<String>,
}

/// `POST /api/platforms/{name}/rotation`: starts a rotation the server carries out
/// through the platform's agents, or rolls the running one back (`certfleet rotate ca
/// --platform NAME`, `certfleet rotate keys --platform NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationRequest {
    /// `ca` (a new root, or with `intermediate` a new intermediate) or `keys`.
    pub kind: RotationRequestKind,
    /// CA rotations: a new intermediate under the existing root.
    #[serde(default)]
    pub intermediate: bool,
    /// Root rotations: also sign the new CA with the old root.
    #[serde(default)]
    pub cross_sign: bool,
    /// Roll back the running rotation of this kind instead of starting one.
    #[serde(default)]
    pub rollback: bool,
    /// Keys rotations: only these services (empty: every internal-CA service).
    #[serde(default)]
    pub services: Vec<String>,
    /// Keys rotations: ignore the services' maintenance windows.
    #[serde(default)]
    pub now: bool,
}

/// What a [`RotationRequest`] rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RotationRequestKind {
    /// The platform's internal CA.
    Ca,
    /// The services' keys.
    Keys,
}

/// A platform's rotation as the server sees it (`GET` and `POST
/// /api/platforms/{name}/rotation`, `certfleet rotate status --platform NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RotationStatus {
    /// The platform.
    pub platform: String,
    /// The rotation under way; absent when none runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationJson>,
    /// `server` when the server carries it out through the agents, `apply` when each
    /// `certfleet apply` of the model does; absent when none runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driven_by: Option<String>,
    /// Rotations the server drives: where each node stands in the current phase, as the
    /// server last looked (empty until it has).
    #[serde(default)]
    pub nodes: Vec<RotationNode>,
    /// The last finished rotation's last history line, when none runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
}

/// One node in the current phase of a rotation the server drives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RotationNode {
    /// The node.
    pub node: String,
    /// `done` (every service deployed what the phase asks and its hook and check
    /// passed), `waiting` or `failed` (a deployment was rolled back or refused).
    pub state: String,
    /// What it waits for or why it failed; empty when done.
    pub detail: String,
}

/// The outputs one service on one node still has to get in the current rotation phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RotationRemaining {
    /// The node.
    pub node: String,
    /// The service.
    pub service: String,
    /// The output paths still to write.
    pub outputs: Vec<String>,
}

impl ApplyJson {
    /// Whether a reload that ran failed.
    pub fn any_reload_failed(&self) -> bool {
        self.reloads.iter().any(ReloadResult::failed)
    }
}

/// One change, as plan and apply report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    /// The service (or `ca` for the internal CA itself).
    pub service: String,
    /// `issue`, `renew`, `rekey`, `write` or `reload`.
    pub action: String,
    /// The file concerned, when there is one.
    pub path: Option<String>,
    /// Why.
    pub reason: String,
}

/// One service in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceReport {
    /// Name.
    pub name: String,
    /// Kind, as the model says.
    pub kind: Option<String>,
    /// Node (the first of `nodes` when several share the certificate).
    pub node: String,
    /// Every node the service runs on; several when they share one key and certificate
    /// (the model's `shared_certificate`). Empty in answers of servers that predate it.
    #[serde(default)]
    pub nodes: Vec<String>,
    /// `internal`, `self-signed`, `external` or `acme`.
    pub issuer: String,
    /// `server`, `client` or `both`.
    pub usage: String,
    /// `ready`, `to-issue`, `awaiting-reply` or `acme`.
    pub status: String,
    /// The CN asked for.
    pub cn: String,
    /// The certificate's subject, when there is a certificate.
    pub subject: Option<String>,
    /// SANs.
    pub sans: Vec<String>,
    /// Expiry, RFC 3339.
    pub not_after: Option<String>,
    /// SHA-1 thumbprint when the certificate serves.
    pub server_thumbprint: Option<String>,
    /// SHA-1 thumbprint when the certificate authenticates a client.
    pub client_thumbprint: Option<String>,
    /// SHA-256 fingerprint.
    pub sha256_fingerprint: Option<String>,
    /// Subjects of the certificates it trusts.
    pub trusts: Vec<String>,
    /// The same, with thumbprints and reasons.
    pub trust: Vec<TrustReport>,
    /// SHA-1 thumbprints of the client certificates it accepts.
    pub allowed_client_thumbprints: Vec<String>,
    /// The same, with the service each belongs to.
    pub allowed_clients: Vec<AllowedClient>,
    /// `ip:port` listeners.
    pub listeners: Vec<String>,
    /// Its files.
    pub outputs: Vec<OutputReport>,
    /// Reload command.
    pub reload: Option<String>,
    /// Remarks.
    pub notes: Vec<String>,
}

/// Why a service trusts one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TrustReport {
    /// The trusted certificate's subject.
    pub subject: String,
    /// Its SHA-1 thumbprint.
    pub sha1_thumbprint: String,
    /// The reasons, e.g. `it connects to data-service`, or the model's `why` for a
    /// certificate it names by file.
    pub because: Vec<String>,
    /// The model's trust files (`[[service.trust]]`) it was read from: a certificate
    /// certfleet did not issue. Empty for one the platform's connections bring.
    #[serde(default)]
    pub files: Vec<String>,
    /// True when it is self-issued (a root, or a self-signed service certificate): on
    /// Windows it goes into Trusted Root Certification Authorities; an intermediate
    /// (false) into Intermediate Certification Authorities.
    #[serde(default)]
    pub self_issued: bool,
}

/// A client certificate a service accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AllowedClient {
    /// The client service.
    pub service: String,
    /// Its SHA-1 client thumbprint.
    pub sha1_thumbprint: String,
}

/// One output in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutputReport {
    /// Format name.
    pub format: String,
    /// The path written.
    pub path: String,
    /// A `pkcs12` or `jks` keystore that also holds the service's trust set as trusted
    /// entries (the model's `include_trust`): the file is its truststore too.
    #[serde(default)]
    pub include_trust: bool,
}

/// A CSR that plan or apply wrote for an external CA, waiting for its reply (a file on
/// the host that runs the apply; a node's CSR sent by its agent is another answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PendingCsrFile {
    /// The service.
    pub service: String,
    /// The CSR's file, to submit.
    pub csr: String,
    /// Where to put the reply.
    pub reply: String,
}

/// A connection from a client service to a server service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Connection {
    /// Client service.
    pub from: String,
    /// Server service.
    pub to: String,
    /// Mutual TLS.
    pub mtls: bool,
}

/// How one reload command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReloadResult {
    /// The service.
    pub service: String,
    /// The command.
    pub command: String,
    /// Whether it ran and exited 0.
    pub ok: bool,
    /// Not run (`--no-reload`, `--root` without `--reload`, or `run_reloads = false`).
    pub skipped: bool,
    /// Not done yet: skipped or failed, so the next apply runs it again and plan lists it.
    pub pending: bool,
    /// Killed for running past its time limit.
    pub timed_out: bool,
    /// Its time limit, in seconds.
    pub timeout_secs: u64,
    /// Its exit status, when it exited (kept beside `exit_code` for older readers).
    pub exit_status: Option<i32>,
    /// Its exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The last lines it wrote to stderr, when it failed.
    pub stderr: Option<String>,
    /// The last lines it printed (stdout, then stderr), when it failed.
    pub output: Option<String>,
}

impl ReloadResult {
    /// Whether it ran and failed (a skipped reload has not failed).
    pub fn failed(&self) -> bool {
        !self.ok && !self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_report_reads_back_as_written() {
        let failed = ReloadResult {
            service: "web".into(),
            command: "systemctl reload web".into(),
            ok: false,
            skipped: false,
            pending: true,
            timed_out: false,
            timeout_secs: 60,
            exit_status: Some(3),
            exit_code: Some(3),
            stderr: Some("no such unit".into()),
            output: Some("no such unit".into()),
        };
        let json = serde_json::to_string(&failed).unwrap();
        assert!(json.starts_with(r#"{"service":"web","command":"systemctl reload web","ok":false,"skipped":false,"pending":true,"timed_out":false,"timeout_secs":60,"exit_status":3,"exit_code":3,"#));
        let back: ReloadResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back, failed);
        assert!(back.failed());
        let skipped = ReloadResult {
            skipped: true,
            ..failed
        };
        assert!(!skipped.failed());
    }
}
