//! What the last `apply` left behind: `state.json` (the certificates issued per service
//! and a digest per output of what it was written from) and `passwords.json` (keystore
//! passwords by written path). Read leniently when absent, strictly when present.

use crate::error::{PlatformError, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use zeroize::Zeroizing;

/// `state.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Format version (1).
    pub version: u32,
    /// Random salt mixed into output digests, so a digest reveals nothing about the
    /// passwords it covers.
    pub salt: String,
    /// The certificate of each service, by service name.
    pub services: BTreeMap<String, ServiceState>,
    /// Each output file written, by its path as written (root included).
    pub outputs: BTreeMap<String, OutputState>,
    /// Services whose reload command has not yet succeeded since their files changed;
    /// the next apply runs it again.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub pending_reloads: BTreeSet<String>,
}

/// One service's certificate as issued or imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceState {
    /// `internal`, `self-signed` or `external`.
    pub issuer: String,
    /// Key algorithm name.
    pub key_algorithm: String,
    /// Subject CN.
    pub cn: String,
    /// SANs as `DNS:x` / `IP:y`.
    pub sans: Vec<String>,
    /// `server`, `client` or `both`.
    pub usage: String,
    /// SHA-1 thumbprint of the leaf.
    pub sha1_thumbprint: String,
    /// SHA-256 fingerprint of the leaf.
    pub sha256_fingerprint: String,
    /// SHA-1 thumbprint of the certificate that signed it (itself when self-signed).
    pub issuer_thumbprint: String,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
}

/// One output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputState {
    /// The service it belongs to.
    pub service: String,
    /// Its format.
    pub format: String,
    /// Salted SHA-256 of everything the file is made from (not of its bytes: keystores
    /// carry random salts).
    pub digest: String,
    /// SHA-256 of the bytes of each file as written, by path, to notice a file changed
    /// on disk since.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
}

impl State {
    /// A fresh state with a new random salt.
    pub fn fresh() -> Result<Self> {
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(|_| PlatformError::State {
            path: "state.json".into(),
            message: "the random source failed".into(),
        })?;
        Ok(State {
            version: 1,
            salt: hex::encode(salt),
            ..State::default()
        })
    }

    /// Reads `path`, or a fresh state when it does not exist.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| PlatformError::State {
                path: path.to_path_buf(),
                message: format!("unreadable state ({e}); move it away to start over"),
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => State::fresh(),
            Err(err) => Err(PlatformError::io(path, &err)),
        }
    }

    /// The JSON text, pretty and stable.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| PlatformError::State {
                path: "state.json".into(),
                message: e.to_string(),
            })
    }
}

/// Removes `succeeded` from the pending reloads recorded in the state file at `path`
/// (called after the reload commands ran), rewriting it atomically when that changes it.
pub fn record_reloads(path: &Path, succeeded: &[String]) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let mut state = State::load(path)?;
    let before = state.pending_reloads.len();
    let succeeded: BTreeSet<&String> = succeeded.iter().collect();
    state.pending_reloads.retain(|s| !succeeded.contains(s));
    if state.pending_reloads.len() == before {
        return Ok(());
    }
    certfleet_secrets::write_private_file(path, state.to_json()?.as_bytes(), true).map_err(|e| {
        PlatformError::State {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })
}

/// `passwords.json`: keystore store passwords by the keystore's written path.
#[derive(Default, PartialEq, Eq)]
pub struct Passwords {
    entries: BTreeMap<String, Zeroizing<String>>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a password.
        f.debug_struct("Passwords")
            .field("paths", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Passwords {
    /// Reads `path`, or an empty set when it does not exist.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Passwords::default())
            }
            Err(err) => return Err(PlatformError::io(path, &err)),
        };
        let map: BTreeMap<String, String> =
            serde_json::from_slice(&bytes).map_err(|_| PlatformError::State {
                path: path.to_path_buf(),
                message: "not a JSON object of path to password".into(),
            })?;
        Ok(Passwords {
            entries: map
                .into_iter()
                .map(|(k, v)| (k, Zeroizing::new(v)))
                .collect(),
        })
    }

    /// The password recorded for `path`.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.entries.get(path).map(|p| p.as_str())
    }

    /// Records `password` for `path`.
    pub fn set(&mut self, path: &str, password: &str) {
        self.entries
            .insert(path.to_owned(), Zeroizing::new(password.to_owned()));
    }

    /// Forgets the passwords of paths that are no longer keystore outputs.
    pub fn retain(&mut self, keep: &BTreeSet<String>) {
        self.entries.retain(|path, _| keep.contains(path));
    }

    /// The JSON text. Handle as a secret.
    pub fn to_json(&self) -> Result<Zeroizing<String>> {
        let map: BTreeMap<&str, &str> = self
            .entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        serde_json::to_string_pretty(&map)
            .map(|s| Zeroizing::new(s + "\n"))
            .map_err(|e| PlatformError::State {
                path: "passwords.json".into(),
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_state_is_fresh_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::load(&dir.path().join("state.json")).unwrap();
        assert_eq!(state.version, 1);
        assert_eq!(state.salt.len(), 32);
        let path = dir.path().join("s.json");
        std::fs::write(&path, state.to_json().unwrap()).unwrap();
        assert_eq!(State::load(&path).unwrap(), state);
        std::fs::write(&path, "{").unwrap();
        assert!(State::load(&path).is_err());
    }

    #[test]
    fn passwords_never_show_in_debug() {
        let mut p = Passwords::default();
        p.set("/x/a.p12", "S3cret!pw");
        assert!(!format!("{p:?}").contains("S3cret"));
        let json = p.to_json().unwrap();
        assert!(json.contains("S3cret!pw"));
    }
}
