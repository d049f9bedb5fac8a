//! Writing one file all at once: a temporary file in the same directory, its mode and
//! owner set, its contents synced, renamed over the target, and the directory synced, so
//! a reader sees the old file or the new one and a crash leaves one of them.

use crate::error::{AgentError, Result};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Who owns a file and who may read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    /// The permission bits, e.g. `0o600`.
    pub mode: u32,
    /// The owning user id; `None`: the agent's.
    pub uid: Option<u32>,
    /// The owning group id; `None`: the agent's.
    pub gid: Option<u32>,
}

impl Ownership {
    /// The agent's own file with `mode`.
    pub fn mode(mode: u32) -> Self {
        Ownership {
            mode,
            uid: None,
            gid: None,
        }
    }
}

/// The directory a file is in (`.` for a bare name).
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `contents` to `path` atomically with `ownership`, creating missing parent
/// directories (mode 0755).
pub fn write(path: &Path, contents: &[u8], ownership: Ownership) -> Result<()> {
    let dir = parent_of(path);
    fs::create_dir_all(&dir).map_err(|e| AgentError::io(&dir, &e))?;
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(".certfleet-agent-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600));
    let mut temp = builder
        .tempfile_in(&dir)
        .map_err(|e| AgentError::file(path, format!("cannot create a file beside it: {e}")))?;
    let fail = |e: std::io::Error| AgentError::file(path, format!("cannot write: {e}"));
    temp.write_all(contents).map_err(fail)?;
    if ownership.uid.is_some() || ownership.gid.is_some() {
        std::os::unix::fs::chown(temp.path(), ownership.uid, ownership.gid).map_err(|e| {
            AgentError::file(path, format!("cannot give it its owner or group: {e}"))
        })?;
    }
    // After chown, which may clear set-id bits; the umask plays no part here.
    fs::set_permissions(temp.path(), fs::Permissions::from_mode(ownership.mode)).map_err(fail)?;
    temp.as_file().sync_all().map_err(fail)?;
    temp.persist(path).map_err(|e| fail(e.error))?;
    sync_dir(&dir)
}

/// Syncs a directory, so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| AgentError::file(dir, format!("cannot sync the directory: {e}")))
}

/// Creates `dir` (and its parents) when missing and makes it private to the agent (0700).
pub fn private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| AgentError::io(dir, &e))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| AgentError::io(dir, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_files_with_their_mode_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/x.key");
        write(&path, b"one", Ownership::mode(0o600)).unwrap();
        write(&path, b"two", Ownership::mode(0o640)).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.key"]);
    }
}
