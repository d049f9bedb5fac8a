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

/// A file's mode and owner other than [`Mode`]'s defaults, with the owner and group
/// already looked up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ownership {
    /// The mode; a [`Mode::Secret`] file keeps no permission for others whatever this
    /// says.
    pub mode: Option<u32>,
    /// The owning user id.
    pub uid: Option<u32>,
    /// The owning group id.
    pub gid: Option<u32>,
}

/// A set of files to be written together.
#[derive(Default)]
pub struct OutputSet {
    files: Vec<(PathBuf, Vec<u8>, Mode, Ownership)>,
}

impl OutputSet {
    /// Adds a file to the set.
    pub fn add(&mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>, mode: Mode) {
        self.add_owned(path, contents, mode, Ownership::default());
    }

    /// Adds a file to the set with its own mode and owner; the file gets them before it
    /// is renamed into place.
    pub fn add_owned(
        &mut self,
        path: impl Into<PathBuf>,
        contents: impl Into<Vec<u8>>,
        mode: Mode,
        ownership: Ownership,
    ) {
        self.files
            .push((path.into(), contents.into(), mode, ownership));
    }

    /// Fails, naming the file, when any target already exists.
    pub fn refuse_existing(&self, why: &str) -> Result<()> {
        for (path, _, _, _) in &self.files {
            if path.exists() {
                bail!("{}: already exists; {why}", path.display());
            }
        }
        Ok(())
    }

    /// Fails, naming the file, when a target that would hold a private key already
    /// exists: a key is never replaced unless the user asked for it.
    pub fn refuse_existing_keys(&self) -> Result<()> {
        for (path, _, mode, _) in &self.files {
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
        for (path, contents, mode, ownership) in &self.files {
            staged.push((stage(path, contents, *mode, *ownership)?, path.clone()));
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

fn stage(
    path: &Path,
    contents: &[u8],
    mode: Mode,
    ownership: Ownership,
) -> Result<tempfile::NamedTempFile> {
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
        let bits = match (mode, ownership.mode) {
            (Mode::Secret, Some(bits)) => bits & 0o770,
            (Mode::Public, Some(bits)) => bits & 0o777,
            (Mode::Secret, None) => 0o600,
            (Mode::Public, None) => 0o644,
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
    #[cfg(unix)]
    if let Some(bits) = ownership.mode {
        // Exactly the mode asked for, whatever the umask took from it at creation.
        use std::os::unix::fs::PermissionsExt;
        let bits = if mode == Mode::Secret {
            bits & 0o770
        } else {
            bits & 0o777
        };
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(bits))
            .with_context(|| format!("{}: cannot set its mode {bits:04o}", path.display()))?;
    }
    #[cfg(unix)]
    if ownership.uid.is_some() || ownership.gid.is_some() {
        std::os::unix::fs::fchown(temp.as_file(), ownership.uid, ownership.gid).with_context(
            || {
                format!(
                    "{}: cannot give it its owner and group (uid {:?}, gid {:?}; changing them needs root)",
                    path.display(),
                    ownership.uid,
                    ownership.gid
                )
            },
        )?;
    }
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

    #[cfg(unix)]
    #[test]
    fn an_owned_file_gets_exactly_its_mode_and_group() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let gid = nix::unistd::getgid().as_raw();
        let mut set = OutputSet::default();
        let ownership = |mode| Ownership {
            mode: Some(mode),
            uid: None,
            gid: Some(gid),
        };
        set.add_owned(
            dir.path().join("a.crt"),
            b"c".to_vec(),
            Mode::Public,
            ownership(0o640),
        );
        // A key file never keeps a permission for others.
        set.add_owned(
            dir.path().join("a.key"),
            b"k".to_vec(),
            Mode::Secret,
            ownership(0o644),
        );
        set.commit().unwrap();
        let meta = |name: &str| fs::metadata(dir.path().join(name)).unwrap();
        assert_eq!(meta("a.crt").permissions().mode() & 0o7777, 0o640);
        assert_eq!(meta("a.key").permissions().mode() & 0o7777, 0o640);
        assert_eq!(meta("a.crt").gid(), gid);
    }
}
