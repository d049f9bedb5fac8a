//! File input and output for every command: reading with errors that name the file, and
//! writing a set of files all at once or not at all.
//!
//! Outputs are written to temporary files beside their targets and renamed into place
//! only when every one of them was written, so a failure leaves nothing half-done. Key
//! files are created with mode 0600 from the start.

use anyhow::{bail, Context, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads a whole input file; the error names it.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    let bytes = fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if bytes.is_empty() {
        bail!("{}: the file is empty", path.display());
    }
    Ok(bytes)
}

/// Who may read an output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Private key material: owner read/write only (0600).
    Secret,
    /// Certificates and CSRs: world-readable (0644).
    Public,
}

/// A set of files to be written together.
#[derive(Default)]
pub struct OutputSet {
    files: Vec<(PathBuf, Vec<u8>, Mode)>,
}

impl OutputSet {
    /// Adds a file to the set.
    pub fn add(&mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>, mode: Mode) {
        self.files.push((path.into(), contents.into(), mode));
    }

    /// Fails, naming the file, when any target already exists.
    pub fn refuse_existing(&self, why: &str) -> Result<()> {
        for (path, _, _) in &self.files {
            if path.exists() {
                bail!("{}: already exists; {why}", path.display());
            }
        }
        Ok(())
    }

    /// Fails, naming the file, when a target that would hold a private key already
    /// exists: a key is never replaced unless the user asked for it.
    pub fn refuse_existing_keys(&self) -> Result<()> {
        for (path, _, mode) in &self.files {
            if *mode == Mode::Secret && path.exists() {
                bail!(
                    "{}: already exists and holds a private key; nothing written; pass --force to overwrite it",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// Writes every file: all to temporaries first, then all renamed into place. On any
    /// failure the temporaries are removed and files already renamed are taken back.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let mut staged = Vec::with_capacity(self.files.len());
        for (path, contents, mode) in &self.files {
            staged.push((stage(path, contents, *mode)?, path.clone()));
        }
        let mut placed: Vec<PathBuf> = Vec::new();
        for (temp, target) in staged {
            if let Err(err) = temp.persist(&target) {
                for done in &placed {
                    // Best effort: undo what this commit already put in place.
                    let _ = fs::remove_file(done);
                }
                return Err(err.error)
                    .with_context(|| format!("{}: cannot write", target.display()));
            }
            placed.push(target);
        }
        Ok(placed)
    }
}

fn stage(path: &Path, contents: &[u8], mode: Mode) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!(
            "{}: the directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".certfleet-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let bits = match mode {
            Mode::Secret => 0o600,
            Mode::Public => 0o644,
        };
        builder.permissions(fs::Permissions::from_mode(bits));
    }
    let mut temp = builder.tempfile_in(&dir).with_context(|| {
        format!(
            "{}: cannot create a file in {}",
            path.display(),
            dir.display()
        )
    })?;
    temp.write_all(contents)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(temp)
}

/// `PREFIX` + `suffix`, e.g. `out/web` + `.crt`.
pub fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_all_files_with_their_modes() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = OutputSet::default();
        set.add(dir.path().join("a.key"), "secret", Mode::Secret);
        set.add(dir.path().join("a.crt"), "public", Mode::Public);
        set.commit().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("a.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            fs::read_to_string(dir.path().join("a.crt")).unwrap(),
            "public"
        );
    }

    #[test]
    fn writes_nothing_when_one_target_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = OutputSet::default();
        set.add(dir.path().join("ok.crt"), "x", Mode::Public);
        set.add(dir.path().join("missing/nope.crt"), "x", Mode::Public);
        assert!(set.commit().is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
