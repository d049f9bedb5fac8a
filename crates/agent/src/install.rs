//! Putting a service's files in place: each written atomically ([`crate::atomic`]) with
//! its mode and owner, a file whose bytes are already right left alone (so nothing
//! restarts for nothing), and the previous version of every replaced file kept, with its
//! mode and owner, so that [`Installation::rollback`] puts back exactly what was there
//! (and removes what was not).

use crate::atomic::{self, Ownership};
use crate::error::Result;
use crate::material::sha256_hex;
use crate::outputs::PlannedFile;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// A file as it was before this installation.
struct Previous {
    contents: Zeroizing<Vec<u8>>,
    ownership: Ownership,
}

/// What an installation replaced, in order.
struct Replaced {
    path: PathBuf,
    /// `None`: there was no file.
    previous: Option<Previous>,
}

/// The result of [`install`]: what changed, and how to undo it.
#[derive(Default)]
pub struct Installation {
    replaced: Vec<Replaced>,
}

impl std::fmt::Debug for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print contents.
        f.debug_struct("Installation")
            .field("changed", &self.changed_paths())
            .finish()
    }
}

fn previous_of(path: &Path) -> std::io::Result<Option<Previous>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let meta = std::fs::metadata(path)?;
            Ok(Some(Previous {
                contents: Zeroizing::new(bytes),
                ownership: Ownership {
                    mode: meta.permissions().mode() & 0o7777,
                    uid: Some(meta.uid()),
                    gid: Some(meta.gid()),
                },
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes every file whose bytes differ from what is there, keeping the previous
/// versions; a file with the right bytes only gets its mode and owner set. On a failure
/// the files already written are put back and the error returned.
pub fn install<'a>(files: impl IntoIterator<Item = &'a PlannedFile>) -> Result<Installation> {
    let mut done = Installation::default();
    for file in files {
        if let Err(e) = install_one(file, &mut done) {
            if let Err(undo) = done.rollback() {
                tracing::error!(error = %undo, "cannot put back a previous file");
            }
            return Err(e);
        }
    }
    Ok(done)
}

fn install_one(file: &PlannedFile, done: &mut Installation) -> Result<()> {
    let previous = previous_of(&file.path).map_err(|e| crate::AgentError::io(&file.path, &e))?;
    if let Some(prev) = &previous {
        if sha256_hex(&prev.contents) == sha256_hex(&file.contents) {
            fix_ownership(&file.path, &prev.ownership, &file.ownership)?;
            return Ok(());
        }
    }
    atomic::write(&file.path, &file.contents, file.ownership)?;
    tracing::info!(path = %file.path.display(), "written");
    done.replaced.push(Replaced {
        path: file.path.clone(),
        previous,
    });
    Ok(())
}

fn fix_ownership(path: &Path, is: &Ownership, wanted: &Ownership) -> Result<()> {
    let differs = |want: Option<u32>, have: Option<u32>| want.is_some() && want != have;
    if differs(wanted.uid, is.uid) || differs(wanted.gid, is.gid) {
        std::os::unix::fs::chown(path, wanted.uid, wanted.gid).map_err(|e| {
            crate::AgentError::file(path, format!("cannot give it its owner or group: {e}"))
        })?;
    }
    if is.mode != wanted.mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted.mode))
            .map_err(|e| crate::AgentError::io(path, &e))?;
    }
    Ok(())
}

impl Installation {
    /// True when any file was written.
    pub fn changed(&self) -> bool {
        !self.replaced.is_empty()
    }

    /// The files written.
    pub fn changed_paths(&self) -> Vec<&Path> {
        self.replaced.iter().map(|r| r.path.as_path()).collect()
    }

    /// Puts back every replaced file as it was (bytes, mode, owner), last first, and
    /// removes the files that were not there. Goes on past a failure and returns the
    /// first.
    pub fn rollback(&self) -> Result<()> {
        let mut first_error = None;
        for replaced in self.replaced.iter().rev() {
            let undone = match &replaced.previous {
                Some(prev) => atomic::write(&replaced.path, &prev.contents, prev.ownership),
                None => std::fs::remove_file(&replaced.path)
                    .map_err(|e| crate::AgentError::io(&replaced.path, &e)),
            };
            match undone {
                Ok(()) => tracing::info!(path = %replaced.path.display(), "put back"),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn planned(path: &Path, bytes: &[u8], mode: u32) -> PlannedFile {
        PlannedFile {
            path: path.to_path_buf(),
            contents: Zeroizing::new(bytes.to_vec()),
            ownership: Ownership::mode(mode),
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn rollback_restores_the_exact_previous_bytes_and_modes_and_removes_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let crt = dir.path().join("web.crt");
        let key = dir.path().join("web.key");
        let same = dir.path().join("trust.pem");
        let new = dir.path().join("new/web.p12");
        let old_crt: Vec<u8> = (0..=255u8).chain(b"\r\n old \0".iter().copied()).collect();
        fs::write(&crt, &old_crt).unwrap();
        fs::set_permissions(&crt, fs::Permissions::from_mode(0o640)).unwrap();
        fs::write(&key, b"old key").unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&same, b"unchanged").unwrap();
        fs::set_permissions(&same, fs::Permissions::from_mode(0o644)).unwrap();
        let before_same = fs::metadata(&same).unwrap().modified().unwrap();

        let done = install(&[
            planned(&crt, b"new crt", 0o644),
            planned(&key, b"new key", 0o600),
            planned(&same, b"unchanged", 0o644),
            planned(&new, b"new store", 0o600),
        ])
        .unwrap();
        assert!(done.changed());
        assert_eq!(done.changed_paths(), [&crt, &key, &new]);
        assert_eq!(fs::read(&crt).unwrap(), b"new crt");
        assert_eq!(mode(&crt), 0o644);
        assert_eq!(fs::read(&new).unwrap(), b"new store");
        // The unchanged file was not rewritten.
        assert_eq!(
            fs::metadata(&same).unwrap().modified().unwrap(),
            before_same
        );

        done.rollback().unwrap();
        assert_eq!(fs::read(&crt).unwrap(), old_crt);
        assert_eq!(mode(&crt), 0o640);
        assert_eq!(fs::read(&key).unwrap(), b"old key");
        assert_eq!(fs::read(&same).unwrap(), b"unchanged");
        assert!(!new.exists());
    }

    #[test]
    fn a_failed_write_puts_back_what_was_already_written() {
        let dir = tempfile::tempdir().unwrap();
        let crt = dir.path().join("web.crt");
        fs::write(&crt, b"old").unwrap();
        // A directory where a file should go cannot be replaced by a file.
        let blocked = dir.path().join("blocked");
        fs::create_dir(&blocked).unwrap();
        fs::write(blocked.join("inside"), b"x").unwrap();
        let result = install(&[planned(&crt, b"new", 0o644), planned(&blocked, b"y", 0o644)]);
        assert!(result.is_err());
        assert_eq!(fs::read(&crt).unwrap(), b"old");
    }

    #[test]
    fn nothing_changes_when_every_file_is_right() {
        let dir = tempfile::tempdir().unwrap();
        let crt = dir.path().join("web.crt");
        fs::write(&crt, b"same").unwrap();
        fs::set_permissions(&crt, fs::Permissions::from_mode(0o600)).unwrap();
        let done = install(&[planned(&crt, b"same", 0o644)]).unwrap();
        assert!(!done.changed());
        // The mode is set all the same.
        assert_eq!(mode(&crt), 0o644);
    }
}
