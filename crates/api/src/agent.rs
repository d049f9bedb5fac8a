//! The agent protocol: what `certfleet agent` and the server's agent listener say to each
//! other, as JSON over mutual TLS.
//!
//! | Request | Client certificate | Body | Answer |
//! |---|---|---|---|
//! | `POST /agent/v1/enroll` | none (the token authorises) | [`EnrollRequest`] | [`Identity`] |
//! | `POST /agent/v1/identity` | the agent's | [`IdentityRenewal`] | [`Identity`] |
//! | `GET /agent/v1/assignment?after=REV` | the agent's | – | [`Assignment`] |
//! | `POST /agent/v1/certificates` | the agent's | [`CertificateRequest`] | [`CertificateState`] |
//! | `POST /agent/v1/reports` | the agent's | [`DeploymentReport`] | 204 |
//!
//! The assignment is a long poll: with `after` equal to the current revision the server
//! holds the request until the assignment changes or [`ASSIGNMENT_WAIT_SECONDS`] pass, then
//! answers the assignment as it is (the same revision when nothing changed).
//!
//! Errors answer `{"error": "..."}` with a 4xx or 5xx status; an identity asking for
//! another node's assignment, or reporting for a service of another node, gets 403.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// The path prefix of every agent request.
pub const PREFIX: &str = "/agent/v1";

/// How long the server holds an assignment request that has nothing new, in seconds.
pub const ASSIGNMENT_WAIT_SECONDS: u64 = 25;

/// The first request of a new agent: the enrolment token and a CSR for the agent's own
/// key (made on the node; only the CSR leaves it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrollRequest {
    /// The single-use token from `certfleet node token`.
    pub token: String,
    /// A PEM CSR for the agent's identity key.
    pub csr_pem: String,
}

/// A request for a fresh identity certificate, made with the current one before it
/// expires.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IdentityRenewal {
    /// A PEM CSR for the agent's identity key (a new key or the same one).
    pub csr_pem: String,
}

/// The agent's identity: a short-lived client certificate bound to one node of one
/// platform, issued by the server's agents CA.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    /// The platform the node belongs to.
    pub platform: String,
    /// The node.
    pub node: String,
    /// The client certificate (PEM).
    pub certificate_pem: String,
    /// The agents CA (PEM): it issues the agent's identity and the agent listener's
    /// certificate, so the agent trusts exactly it when it talks to the server.
    pub agents_ca_pem: String,
    /// The identity's expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// When the agent should ask for a new identity.
    #[serde(with = "time::serde::rfc3339")]
    pub renew_after: OffsetDateTime,
}

/// Everything one node must have: its desired state, evaluated from the platform model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    /// The platform.
    pub platform: String,
    /// The node.
    pub node: String,
    /// Changes whenever anything below changes; the agent's next `after`.
    pub revision: u64,
    /// The services that run on the node, in model order.
    pub services: Vec<ServiceAssignment>,
}

/// One service on the node: its certificate, what it trusts, the files it reads, the hook
/// that makes it read them and how to check that it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceAssignment {
    /// The service's name in the model.
    pub service: String,
    /// The key the agent makes for it, in the model's names (`ecdsa-p256`, `rsa-2048`, ...).
    pub key: String,
    /// The service's certificate, or what the server needs before it has one.
    pub certificate: CertificateState,
    /// The certificates the service must trust (the derived trust set).
    pub trust: Vec<TrustedCertificate>,
    /// The files the service reads.
    pub outputs: Vec<OutputSpec>,
    /// The hook to run after the files changed: a name the node's own configuration
    /// must define (the model never sends a command).
    pub hook: Option<String>,
    /// The hook's time limit, in seconds.
    pub hook_timeout_seconds: u64,
    /// The service's listeners on the node, checked after the hook (empty for a service
    /// that is only a client: its files are checked instead).
    pub checks: Vec<ListenerCheck>,
    /// What the model asks of the service's certificate: the subject and names a CSR
    /// carries (so that an external CA's administrator sees what to sign), and, for a
    /// self-signed service, everything the node needs to make the certificate itself.
    /// Absent from servers that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<CertificateProfile>,
    /// Set with a `Wanted` certificate when the service must get a new key (a keys
    /// rotation): the node makes one before its CSR instead of reusing the key it holds.
    /// Absent (false) from servers that predate it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub new_key: bool,
}

/// What the model asks of a service's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateProfile {
    /// The subject's common name (always also a SAN).
    pub cn: String,
    /// The subject's attributes beside the CN.
    #[serde(default)]
    pub subject: SubjectFields,
    /// The DNS names besides the CN, as the model lists them.
    #[serde(default)]
    pub dns_names: Vec<String>,
    /// The IP addresses, as the model lists them.
    #[serde(default)]
    pub ips: Vec<String>,
    /// `server`, `client` or `both` (the extended key usage).
    pub usage: String,
    /// The validity, in days.
    pub days: u32,
    /// The model's issuer: `internal`, `self-signed`, `external` or `acme`. With
    /// `self-signed` the node signs the certificate with the service's key when the
    /// certificate is `Wanted`, and sends it instead of a CSR.
    pub issuer: String,
}

/// The subject attributes beside the CN, each absent when the model sets none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubjectFields {
    /// Country (C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// State or province (ST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Locality (L).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// Organization (O).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Organizational unit (OU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_unit: Option<String>,
}

/// The issuer name of a self-signed service in [`CertificateProfile::issuer`].
pub const SELF_SIGNED: &str = "self-signed";

/// Where a service's certificate stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CertificateState {
    /// Issued for the key the agent holds.
    Issued(IssuedCertificate),
    /// The server needs a CSR for a (new) key: a new service, a renewal, changed names,
    /// or a certificate that does not match the agent's key.
    Wanted {
        /// Why, for logs and reports.
        reason: String,
    },
    /// A CSR is with someone else (an external CA's administrator); nothing to do yet.
    Awaiting {
        /// What is awaited.
        reason: String,
    },
}

/// A certificate the server issued (or imported) for a service's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuedCertificate {
    /// The leaf (PEM).
    pub leaf_pem: String,
    /// The issuing chain, leaf's issuer first, up to and including the root; empty when
    /// self-signed.
    pub chain_pem: Vec<String>,
    /// The leaf's SHA-256 thumbprint, lowercase hex.
    pub sha256: String,
    /// The leaf's expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// A certificate a service must trust, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TrustedCertificate {
    /// The certificate (PEM).
    pub pem: String,
    /// Its subject, e.g. `CN=qms Root CA`.
    pub subject: String,
    /// Its SHA-1 thumbprint, lowercase hex (the form vendor tools show).
    pub sha1: String,
    /// Why the service trusts it, e.g. `it connects to data-service`.
    pub because: Vec<String>,
}

/// One file (or file set) a service reads, as the model describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutputSpec {
    /// The model's format name (`pem-pair`, `jks`, `pkcs12`, `truststore-jks`, ...).
    pub format: String,
    /// The path on the node.
    pub path: String,
    /// The keystore alias, when the format has one.
    pub alias: Option<String>,
    /// The store password when the model gives one; absent: the agent makes one on the
    /// node and keeps it there.
    pub password: Option<String>,
    /// A JKS key password that differs from the store password.
    pub key_password: Option<String>,
    /// Legacy PKCS#12 encryption (3DES/SHA-1) for old readers.
    pub legacy: bool,
    /// A `pkcs12` or `jks` keystore that also holds the service's trust list as
    /// trusted entries (keystore and truststore in one file).
    #[serde(default)]
    pub include_trust: bool,
    /// Diffie-Hellman parameter size, for the `dhparam` format.
    pub bits: u32,
    /// The file mode (e.g. 0o640); absent: 0600 for secrets, 0644 otherwise.
    pub mode: Option<u32>,
    /// The owning user, by name; absent: the agent's user.
    pub owner: Option<String>,
    /// The owning group, by name; absent: the agent's group.
    pub group: Option<String>,
}

/// A listener to check after deployment: connect, send this server name, compare the
/// served leaf with the one just deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListenerCheck {
    /// `host:port`.
    pub address: String,
    /// The SNI to send.
    pub server_name: String,
}

/// A CSR for a service's key, made on the node; or, for a self-signed service, the
/// certificate the node signed with that key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CertificateRequest {
    /// The service.
    pub service: String,
    /// The PEM CSR. Only its public key and signature count: names and subject come
    /// from the model. Empty when `certificate_pem` is given.
    #[serde(default)]
    pub csr_pem: String,
    /// A self-signed service's certificate (PEM), made on the node with the service's
    /// key as [`ServiceAssignment::profile`] says; the server checks that it is
    /// self-signed and exactly what the model asks for, and keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_pem: Option<String>,
}

/// What the agent did for one service, sent after every deployment attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeploymentReport {
    /// The assignment revision the agent acted on.
    pub revision: u64,
    /// The service.
    pub service: String,
    /// The outcome.
    pub outcome: DeploymentOutcome,
    /// The SHA-256 thumbprint of the leaf the service's files now hold.
    pub thumbprint: Option<String>,
    /// The files as they are now on the node.
    pub outputs: Vec<DeployedFile>,
    /// The hook's result, when one ran.
    pub hook: Option<HookResult>,
    /// The check's result, when one ran.
    pub check: Option<CheckResult>,
    /// What went wrong, when something did.
    pub error: Option<String>,
    /// The agent's version.
    pub agent_version: String,
    /// When the agent finished.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
}

/// The outcome of one deployment attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentOutcome {
    /// The files match the assignment and the check passed (or nothing had to change).
    Current,
    /// The hook or the check failed; the previous files were put back.
    RolledBack,
    /// The agent could not act (a hook the node does not define, a file it could not
    /// write); the files are as they were.
    Refused,
    /// The certificate is not there yet (a CSR is awaited).
    Waiting,
}

/// One file on the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeployedFile {
    /// Its path.
    pub path: String,
    /// The SHA-256 of its contents, lowercase hex.
    pub sha256: String,
}

/// A hook's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HookResult {
    /// The hook's name.
    pub name: String,
    /// Whether it exited with 0 within its time limit.
    pub ok: bool,
    /// Its exit code, when it exited.
    pub exit_code: Option<i32>,
    /// Whether it was killed at its time limit.
    pub timed_out: bool,
    /// The end of its standard output and error (at most a few KiB).
    pub output: String,
}

/// The post-deployment check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    /// Whether every listener served the new leaf (or the files hold it, for a client).
    pub ok: bool,
    /// What was found, e.g. `127.0.0.2:8443 served 3f2a... (expected 3f2a...)`.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_states_are_tagged_by_state() {
        let wanted = CertificateState::Wanted {
            reason: "new service".into(),
        };
        let json = serde_json::to_value(&wanted).unwrap();
        assert_eq!(json["state"], "wanted");
        assert_eq!(json["reason"], "new service");
        let back: CertificateState = serde_json::from_value(json).unwrap();
        assert_eq!(back, wanted);
    }

    #[test]
    fn an_assignment_without_a_profile_still_parses() {
        let json = serde_json::json!({
            "service": "web", "key": "ecdsa-p256",
            "certificate": {"state": "wanted", "reason": "new"},
            "trust": [], "outputs": [], "hook": null, "hook_timeout_seconds": 30, "checks": []
        });
        let parsed: ServiceAssignment = serde_json::from_value(json).unwrap();
        assert_eq!(parsed.profile, None);
        let request: CertificateRequest =
            serde_json::from_value(serde_json::json!({"service": "web", "csr_pem": "x"})).unwrap();
        assert_eq!(request.certificate_pem, None);
    }

    #[test]
    fn outcomes_use_snake_case() {
        let json = serde_json::to_string(&DeploymentOutcome::RolledBack).unwrap();
        assert_eq!(json, "\"rolled_back\"");
    }
}
