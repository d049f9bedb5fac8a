//! The data directory's file rules: the directory is 0700 and every file in it 0600,
//! written atomically (temporary file, fsync, rename).

use crate::error::{Result, SecretError};
use std::fs;
use std::io::Write;
use std::path::Path;

fn io_error(path: &Path, source: std::io::Error) -> SecretError {
    SecretError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Creates `dir` (and its parents) when missing, owner-only (0700).
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| io_error(dir, e))?;
        }
    }
    Ok(())
}

/// Writes `contents` to `path` with mode 0600, atomically. With `overwrite` false an
/// existing file is left as it is (first writer wins).
pub fn write_private_file(path: &Path, contents: &[u8], overwrite: bool) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".certfleet-")
        .tempfile_in(dir)
        .map_err(|e| io_error(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| io_error(path, e))?;
    }
    temp.write_all(contents)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| io_error(path, e))?;
    if overwrite {
        temp.persist(path).map_err(|e| io_error(path, e.error))?;
    } else {
        match temp.persist_noclobber(path) {
            Ok(_) => {}
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(path, e.error)),
        }
    }
    Ok(())
}
