//! Files that hold secrets (the master key, the admin token, the default certificate's
//! private key) must be readable by their owner only. Like sshd with a host key, the
//! server refuses such a file when its group or others may read or write it, naming the
//! file and the `chmod` that fixes it, rather than quietly using a secret others may
//! already have copied.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Refuses `path` when it exists and its mode gives the group or others any access.
/// A missing file passes (it is about to be created, mode 0600).
pub fn refuse_open_secret_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => {
                return Err(err).with_context(|| format!("{}: cannot read", path.display()))
            }
        };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "{}: mode {mode:04o} lets other users reach this secret; certfleet refuses to use it until only its owner can (chmod 600 {})",
                path.display(),
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn group_or_other_access_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin.token");
        refuse_open_secret_file(&path).unwrap();
        std::fs::write(&path, "token").unwrap();
        for (mode, refused) in [(0o600, false), (0o400, false), (0o640, true), (0o604, true)] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let result = refuse_open_secret_file(&path);
            assert_eq!(result.is_err(), refused, "{mode:o}");
            if let Err(err) = result {
                let text = err.to_string();
                assert!(text.contains("admin.token"), "{text}");
                assert!(text.contains(&format!("{mode:04o}")), "{text}");
            }
        }
    }
}
