//! The agent's data directory (mode 0700, default `./certfleet-agent`):
//!
//! | File | What |
//! |---|---|
//! | `identity.key` (0600), `identity.crt` | the agent's key and client certificate |
//! | `agents-ca.pem` | the server's agents CA, the only CA the agent trusts |
//! | `enrollment.json` | platform, node, server URLs, when to renew the identity |
//! | `state.json` | the last assignment revision acted on, and what each output was made from |
//! | `keys/<service>.key` (0600) | the services' keys, made here and never sent |
//! | `passwords.json` (0600) | keystore passwords made on the node |
//! | `agent.toml` | the node's own configuration (written by the administrator) |

use crate::atomic::{self, Ownership};
use crate::error::{AgentError, Result};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// The default data directory.
pub const DEFAULT: &str = "./certfleet-agent";

/// The agent's data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// What enrolment established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    /// The platform.
    pub platform: String,
    /// The node.
    pub node: String,
    /// The servers' agent listener URLs, in the order to try them.
    pub servers: Vec<String>,
    /// When the identity certificate expires.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// When to ask for a new identity.
    #[serde(with = "time::serde::rfc3339")]
    pub renew_after: OffsetDateTime,
}

/// What one output was last written from, and the files it wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// The salted digest of the output's inputs (see `certfleet_platform::render::digest`).
    pub digest: String,
    /// Each file's SHA-256, by path.
    pub files: BTreeMap<String, String>,
}

/// `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    /// The assignment revision last acted on, the next long poll's `after`.
    pub revision: Option<u64>,
    /// The salt of the output digests.
    pub salt: String,
    /// Each output's record, by its placed path.
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputRecord>,
    /// The SHA-256 of the leaf each service's files hold, by service.
    #[serde(default)]
    pub deployed: BTreeMap<String, String>,
}

impl AgentState {
    fn fresh() -> Self {
        let salt: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
        AgentState {
            revision: None,
            salt: hex::encode(salt),
            outputs: BTreeMap::new(),
            deployed: BTreeMap::new(),
        }
    }
}

impl DataDir {
    /// The data directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `identity.key`.
    pub fn identity_key(&self) -> PathBuf {
        self.root.join("identity.key")
    }

    /// `identity.crt`.
    pub fn identity_cert(&self) -> PathBuf {
        self.root.join("identity.crt")
    }

    /// `agents-ca.pem`.
    pub fn agents_ca(&self) -> PathBuf {
        self.root.join("agents-ca.pem")
    }

    /// `enrollment.json`.
    pub fn enrollment_file(&self) -> PathBuf {
        self.root.join("enrollment.json")
    }

    /// `state.json`.
    pub fn state_file(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// `passwords.json`.
    pub fn passwords_file(&self) -> PathBuf {
        self.root.join("passwords.json")
    }

    /// `keys/<service>.key`; refuses a service name that is not a plain file name.
    pub fn service_key(&self, service: &str) -> Result<PathBuf> {
        let plain = !service.is_empty()
            && service
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !service.starts_with('.');
        if !plain {
            return Err(AgentError::file(
                &self.root.join("keys"),
                format!("the service name '{service}' cannot name a key file"),
            ));
        }
        Ok(self.root.join("keys").join(format!("{service}.key")))
    }

    /// Reads `enrollment.json`.
    pub fn enrollment(&self) -> Result<Enrollment> {
        let path = self.enrollment_file();
        if !path.exists() {
            return Err(AgentError::NotEnrolled(format!(
                "{} does not exist; run `certfleet agent enroll` first",
                path.display()
            )));
        }
        read_json(&path)
    }

    /// Writes `enrollment.json`.
    pub fn save_enrollment(&self, enrollment: &Enrollment) -> Result<()> {
        write_json(&self.enrollment_file(), enrollment, 0o600)
    }

    /// Reads `state.json`, or a fresh state when there is none.
    pub fn state(&self) -> Result<AgentState> {
        let path = self.state_file();
        if path.exists() {
            read_json(&path)
        } else {
            Ok(AgentState::fresh())
        }
    }

    /// Writes `state.json`.
    pub fn save_state(&self, state: &AgentState) -> Result<()> {
        write_json(&self.state_file(), state, 0o600)
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| AgentError::io(path, &e))?;
    serde_json::from_slice(&bytes).map_err(|e| AgentError::file(path, e))
}

fn write_json<T: Serialize>(path: &Path, value: &T, mode: u32) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| AgentError::file(path, e))?;
    atomic::write(path, format!("{text}\n").as_bytes(), Ownership::mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_starts_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let mut state = data.state().unwrap();
        assert_eq!(state.revision, None);
        assert_eq!(state.salt.len(), 32);
        state.revision = Some(7);
        data.save_state(&state).unwrap();
        assert_eq!(data.state().unwrap(), state);
        assert!(matches!(data.enrollment(), Err(AgentError::NotEnrolled(_))));
    }

    #[test]
    fn service_names_that_could_leave_the_keys_directory_are_refused() {
        let data = DataDir::new("/d");
        assert_eq!(
            data.service_key("web-1").unwrap(),
            Path::new("/d/keys/web-1.key")
        );
        for bad in ["../x", "a/b", "", ".hidden"] {
            assert!(data.service_key(bad).is_err(), "{bad}");
        }
    }
}
