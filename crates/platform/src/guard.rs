//! Who may change the model: its `reload` lines are shell commands run by whoever
//! applies it (an administrator, often root, or the server), so a model file that other
//! users can write, or a directory in which they can replace it, is refused before
//! anything is planned, written or run. Shared by the command line and the server, and
//! by the node agent for its configuration (whose hooks are shell commands too).

use crate::error::{PlatformError, Result};
use std::path::Path;

/// Refuses `model` when users other than its owner could change it (group- or
/// world-writable) or replace it (its directory group- or world-writable without the
/// sticky bit). The error names the file or directory, its mode and the fix.
pub fn refuse_model_writable_by_others(model: &Path) -> Result<()> {
    refuse_writable_by_others(
        model,
        &Holder {
            what: "the model",
            commands: "reload commands",
            runner: "applies it",
        },
    )
}

/// Names a file of commands in [`refuse_writable_by_others`]'s messages.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    /// The file, e.g. `the model`.
    pub what: &'a str,
    /// What commands it holds, e.g. `reload commands`.
    pub commands: &'a str,
    /// Who runs them, e.g. `applies it`.
    pub runner: &'a str,
}

/// Refuses `file` of commands when users other than its owner could change or replace
/// it, like [`refuse_model_writable_by_others`], naming it as `holder` says (the node
/// agent's configuration and its hooks, too).
pub fn refuse_writable_by_others(file: &Path, holder: &Holder<'_>) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode_of = |path: &Path| -> Result<u32> {
            Ok(std::fs::metadata(path)
                .map_err(|e| PlatformError::io(path, &e))?
                .permissions()
                .mode())
        };
        let mode = mode_of(file)?;
        if mode & 0o022 != 0 {
            return Err(PlatformError::Unsafe {
                path: file.to_path_buf(),
                message: format!(
                    "{} is writable by other users (mode {:o}), and its {} run as whoever {}; `chmod go-w` it first",
                    holder.what,
                    mode & 0o777,
                    holder.commands,
                    holder.runner
                ),
            });
        }
        let dir = match file.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let dir_mode = mode_of(dir)?;
        if dir_mode & 0o022 != 0 && dir_mode & 0o1000 == 0 {
            return Err(PlatformError::Unsafe {
                path: dir.to_path_buf(),
                message: format!(
                    "{}'s directory is writable by other users (mode {:o}) without the sticky bit, so they could replace {} and its {}; `chmod go-w` it or move {}",
                    holder.what,
                    dir_mode & 0o7777,
                    holder.what,
                    holder.commands,
                    holder.what,
                ),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (file, holder);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn writable_models_and_open_directories_are_refused_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m.toml");
        std::fs::write(&model, "").unwrap();
        chmod(&model, 0o644);
        refuse_model_writable_by_others(&model).unwrap();
        for mode in [0o666, 0o664, 0o646] {
            chmod(&model, mode);
            let err = refuse_model_writable_by_others(&model)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(&model.display().to_string()), "{err}");
            assert!(err.contains("writable by other users"), "{err}");
        }
        chmod(&model, 0o600);
        chmod(dir.path(), 0o777);
        let err = refuse_model_writable_by_others(&model)
            .unwrap_err()
            .to_string();
        assert!(err.contains("model's directory"), "{err}");
        chmod(dir.path(), 0o1777);
        refuse_model_writable_by_others(&model).unwrap();
        chmod(dir.path(), 0o700);
    }
}
