//! The shapes of the platform endpoints' answers, for the OpenAPI document: the JSON of
//! `certfleet plan --json` and `apply --json` ([`certfleet_platform::run`]'s reports, built
//! from the platform crate's own types), described here field for field. The e2e test
//! of the platform API checks real answers against these fields.

// Never built: these types exist for their schemas.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A configured platform (`[[platform]]`).
#[derive(Serialize, ToSchema)]
pub struct PlatformJson {
    /// The model's `[platform] name`.
    pub name: String,
    /// The model file.
    pub model: String,
    /// Where every output goes instead of its own path, when set.
    pub root: Option<String>,
    /// Whether an apply runs the model's reload commands.
    pub run_reloads: bool,
}

/// One change.
#[derive(Serialize, ToSchema)]
pub struct ChangeJson {
    /// The service, or `ca` for the internal CA.
    pub service: String,
    /// `issue`, `renew`, `rekey`, `write` or `reload`.
    pub action: String,
    /// The file concerned, or null.
    pub path: Option<String>,
    /// Why.
    pub reason: String,
}

/// A certificate a service trusts, and why.
#[derive(Serialize, ToSchema)]
pub struct TrustJson {
    /// Its subject.
    pub subject: String,
    /// Its SHA-1 thumbprint.
    pub sha1_thumbprint: String,
    /// The reasons, e.g. `it connects to data-service`.
    pub because: Vec<String>,
}

/// A client certificate a service accepts.
#[derive(Serialize, ToSchema)]
pub struct AllowedClientJson {
    /// The client service.
    pub service: String,
    /// Its SHA-1 client thumbprint.
    pub sha1_thumbprint: String,
}

/// One output file.
#[derive(Serialize, ToSchema)]
pub struct OutputJson {
    /// The format (`pem-pair`, `pkcs12`, `jks-trust`, ...).
    pub format: String,
    /// The path written.
    pub path: String,
}

/// One service: its certificate, what it trusts, whom it accepts, its files.
#[derive(Serialize, ToSchema)]
pub struct ServiceJson {
    /// Name.
    pub name: String,
    /// Kind, as the model says.
    pub kind: Option<String>,
    /// Node.
    pub node: String,
    /// `internal`, `self-signed`, `external` or `acme`.
    pub issuer: String,
    /// `server`, `client` or `both`.
    pub usage: String,
    /// `ready`, `to-issue`, `awaiting-reply` or `acme`.
    pub status: String,
    /// The common name asked for.
    pub cn: String,
    /// The certificate's subject, when there is one.
    pub subject: Option<String>,
    /// Subject alternative names.
    pub sans: Vec<String>,
    /// End of validity, RFC 3339.
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
    pub trust: Vec<TrustJson>,
    /// SHA-1 thumbprints of the client certificates it accepts.
    pub allowed_client_thumbprints: Vec<String>,
    /// The same, with the service each belongs to.
    pub allowed_clients: Vec<AllowedClientJson>,
    /// `ip:port` listeners.
    pub listeners: Vec<String>,
    /// Its files.
    pub outputs: Vec<OutputJson>,
    /// Its reload command.
    pub reload: Option<String>,
    /// Remarks.
    pub notes: Vec<String>,
}

/// A CSR waiting for an external CA.
#[derive(Serialize, ToSchema)]
pub struct PendingCsrJson {
    /// The service.
    pub service: String,
    /// The CSR to submit.
    pub csr: String,
    /// Where to put the CA's reply.
    pub reply: String,
}

/// A connection of the model: an edge of the derived trust graph.
#[derive(Serialize, ToSchema)]
pub struct ConnectionJson {
    /// The client service (it trusts the server's issuer).
    pub from: String,
    /// The server service.
    pub to: String,
    /// Mutual TLS (the server trusts the client's issuer too).
    pub mtls: bool,
}

/// What a plan finds (`certfleet plan --json`).
#[derive(Serialize, ToSchema)]
pub struct PlanJson {
    /// The platform's name.
    pub platform: String,
    /// What apply would change; empty when the platform is current.
    pub changes: Vec<ChangeJson>,
    /// Each service's certificate and derived trust.
    pub services: Vec<ServiceJson>,
    /// The model's connections.
    pub connections: Vec<ConnectionJson>,
    /// The state directory.
    pub state_dir: String,
    /// CSRs waiting for an external CA.
    pub pending_csrs: Vec<PendingCsrJson>,
    /// Files at output paths that certfleet did not write; apply refuses to overwrite
    /// them unless told to adopt them.
    pub unrecorded_files: Vec<String>,
}

/// How one reload command ended.
#[derive(Serialize, ToSchema)]
pub struct ReloadJson {
    /// The service.
    pub service: String,
    /// The command.
    pub command: String,
    /// It ran and exited 0.
    pub ok: bool,
    /// Not run (`run_reloads = false`); it stays pending.
    pub skipped: bool,
    /// Not done yet (skipped or failed): the next apply runs it again.
    pub pending: bool,
    /// Killed for running past its time limit (`reload_timeout`).
    pub timed_out: bool,
    /// Its time limit, in seconds.
    pub timeout_secs: u64,
    /// Its exit status, when it exited.
    pub exit_status: Option<i32>,
    /// Its exit code, when it exited (the same as `exit_status`).
    pub exit_code: Option<i32>,
    /// The last lines it wrote to stderr, when it failed.
    pub stderr: Option<String>,
    /// The last lines it printed, when it failed.
    pub output: Option<String>,
}

/// What an apply did (`certfleet apply --json`).
#[derive(Serialize, ToSchema)]
pub struct ApplyJson {
    /// The platform's name.
    pub platform: String,
    /// What changed.
    pub changes: Vec<ChangeJson>,
    /// Each service's certificate, thumbprints and derived trust.
    pub services: Vec<ServiceJson>,
    /// Each reload command and how it ended.
    pub reloads: Vec<ReloadJson>,
    /// How many files were written.
    pub files_written: u64,
    /// The state directory.
    pub state_dir: String,
    /// What stays manual.
    pub next_steps: String,
    /// Where the next steps are saved.
    pub next_steps_file: String,
    /// Where generated keystore passwords are kept (mode 0600), when keystores exist.
    pub passwords_file: Option<String>,
    /// CSRs waiting for an external CA.
    pub pending_csrs: Vec<PendingCsrJson>,
}
