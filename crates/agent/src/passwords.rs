//! Keystore passwords made on the node: when the model gives an output no password, the
//! agent makes one (the platform's generator) and keeps it in `passwords.json` (0600) in
//! its data directory, by the keystore's path, so the service's configuration can be
//! given it (`certfleet agent passwords`). They are never sent to the server.

use crate::atomic::{self, Ownership};
use crate::error::{AgentError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// One kept password as `certfleet agent passwords --json` shows it.
#[derive(Serialize)]
pub struct ShownPassword<'a> {
    /// The service whose output it protects.
    pub service: &'a str,
    /// The keystore's path.
    pub path: &'a str,
    /// The password.
    pub password: &'a str,
}

/// One kept password.
#[derive(Clone, Serialize, Deserialize)]
pub struct Kept {
    /// The service whose output it protects.
    pub service: String,
    /// The password.
    pub password: String,
}

impl Drop for Kept {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.password);
    }
}

/// `passwords.json`.
pub struct Passwords {
    file: PathBuf,
    entries: BTreeMap<String, Kept>,
    changed: bool,
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
    /// Reads `file`, or an empty set when it does not exist.
    pub fn load(file: &Path) -> Result<Self> {
        let entries = match std::fs::read(file) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                serde_json::from_slice(&bytes).map_err(|_| {
                    AgentError::file(file, "not a JSON object of path to service and password")
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(AgentError::io(file, &e)),
        };
        Ok(Passwords {
            file: file.to_path_buf(),
            entries,
            changed: false,
        })
    }

    /// The password of the keystore at `path`, made and kept when there is none.
    pub fn get_or_make(&mut self, service: &str, path: &str) -> Result<Zeroizing<String>> {
        if let Some(kept) = self.entries.get(path) {
            return Ok(Zeroizing::new(kept.password.clone()));
        }
        let password = certfleet_platform::outputs::generate_password()
            .map_err(|e| AgentError::Crypto(format!("service {service}: {path}: {e}")))?;
        self.entries.insert(
            path.to_owned(),
            Kept {
                service: service.to_owned(),
                password: password.to_string(),
            },
        );
        self.changed = true;
        Ok(password)
    }

    /// Every kept password: (path, service, password).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.entries
            .iter()
            .map(|(path, kept)| (path.as_str(), kept.service.as_str(), kept.password.as_str()))
    }

    /// `certfleet agent passwords`: one `SERVICE<TAB>PATH<TAB>PASSWORD` line each.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::new());
        for (path, service, password) in self.entries() {
            text.push_str(&format!("{service}\t{path}\t{password}\n"));
        }
        text
    }

    /// `certfleet agent passwords --json`: `[{"service", "path", "password"}, ...]`.
    pub fn shown(&self) -> Vec<ShownPassword<'_>> {
        self.entries()
            .map(|(path, service, password)| ShownPassword {
                service,
                path,
                password,
            })
            .collect()
    }

    /// Writes the file (0600) when a password was made since it was read.
    pub fn save(&mut self) -> Result<()> {
        if !self.changed {
            return Ok(());
        }
        let text = Zeroizing::new(
            serde_json::to_string_pretty(&self.entries)
                .map_err(|e| AgentError::file(&self.file, e))?,
        );
        atomic::write(&self.file, text.as_bytes(), Ownership::mode(0o600))?;
        self.changed = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn passwords_are_made_once_kept_private_and_not_printed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("passwords.json");
        let mut p = Passwords::load(&file).unwrap();
        let made = p.get_or_make("web", "/o/web.p12").unwrap();
        assert!(made.len() >= 16);
        assert!(!format!("{p:?}").contains(made.as_str()));
        p.save().unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mut again = Passwords::load(&file).unwrap();
        assert_eq!(again.get_or_make("web", "/o/web.p12").unwrap(), made);
        let listed: Vec<_> = again.entries().collect();
        assert_eq!(listed, [("/o/web.p12", "web", made.as_str())]);
    }
}
