//! Where everything goes: the base directory, output paths re-rooted under `--root`,
//! the CA directory, and the state directory with its fixed layout.
//!
//! - base = `--root DIR` when given, else the model file's directory.
//! - With `--root`, every path written is under DIR: an absolute output path `/opt/x`
//!   becomes `DIR/opt/x`, a relative one is relative to DIR, and no path may climb out of
//!   DIR with `..`, nor through a symbolic link ([`Layout::confinement`]).
//! - State: `base/.certfleet/<platform>/` holding `state.json`, `passwords.json`,
//!   `next-steps.txt`, `keys/<service>.key`, `certs/<service>.crt`, `csr/<service>.csr`
//!   and `replies/<service>.crt` (where the administrator puts an external CA's reply).

use crate::error::{PlatformError, Result};
use std::path::{Component, Path, PathBuf};

/// The resolved directories of one run.
#[derive(Debug, Clone)]
pub struct Layout {
    base: PathBuf,
    rooted: bool,
    state: PathBuf,
}

impl Layout {
    /// The layout for a model at `model_path` (its directory is the base unless `root`
    /// is given) and platform `name`. Paths are made absolute against `cwd`.
    pub fn new(model_path: &Path, root: Option<&Path>, name: &str, cwd: &Path) -> Self {
        let (base, rooted) = match root {
            Some(dir) => (normalise(&cwd.join(dir)), true),
            None => {
                let dir = model_path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                (normalise(&cwd.join(dir)), false)
            }
        };
        let state = base.join(".certfleet").join(name);
        Layout {
            base,
            rooted,
            state,
        }
    }

    /// The base directory.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Where a path written in the model ends up. Under `--root`, absolute paths are
    /// re-rooted and nothing may leave the root.
    pub fn place(&self, written: &str) -> Result<PathBuf> {
        let path = Path::new(written);
        let joined = if path.is_absolute() {
            if self.rooted {
                let relative: PathBuf = path
                    .components()
                    .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
                    .collect();
                self.base.join(relative)
            } else {
                path.to_path_buf()
            }
        } else {
            self.base.join(path)
        };
        let placed = normalise(&joined);
        if self.rooted && !placed.starts_with(&self.base) {
            return Err(PlatformError::File {
                path: path.to_path_buf(),
                message: format!(
                    "the path climbs out of the root {} with '..'; with --root every file stays under it",
                    self.base.display()
                ),
            });
        }
        if placed == self.base || placed.file_name().is_none() {
            return Err(PlatformError::File {
                path: path.to_path_buf(),
                message: "names a directory, not a file".into(),
            });
        }
        Ok(placed)
    }

    /// The internal CA's directory.
    pub fn ca_dir(&self, written: &str) -> Result<PathBuf> {
        let path = Path::new(written);
        let joined = if path.is_absolute() && !self.rooted {
            path.to_path_buf()
        } else {
            return self.place(written);
        };
        Ok(normalise(&joined))
    }

    /// `base/.certfleet/<platform>`.
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// `STATE/state.json`.
    pub fn state_file(&self) -> PathBuf {
        self.state.join("state.json")
    }

    /// `STATE/passwords.json`.
    pub fn passwords_file(&self) -> PathBuf {
        self.state.join("passwords.json")
    }

    /// `STATE/next-steps.txt`.
    pub fn next_steps_file(&self) -> PathBuf {
        self.state.join("next-steps.txt")
    }

    /// `STATE/keys/<service>.key`.
    pub fn key_file(&self, service: &str) -> PathBuf {
        self.state.join("keys").join(format!("{service}.key"))
    }

    /// `STATE/certs/<service>.crt`: the leaf and its chain as issued or imported.
    pub fn cert_file(&self, service: &str) -> PathBuf {
        self.state.join("certs").join(format!("{service}.crt"))
    }

    /// `STATE/csr/<service>.csr`.
    pub fn csr_file(&self, service: &str) -> PathBuf {
        self.state.join("csr").join(format!("{service}.csr"))
    }

    /// `STATE/replies/<service>.crt`, where the external CA's reply goes.
    pub fn reply_file(&self, service: &str) -> PathBuf {
        self.state.join("replies").join(format!("{service}.crt"))
    }

    /// Under `--root`, a check that paths stay inside the root once symbolic links are
    /// followed (the root itself may be a link); `None` without `--root`.
    pub fn confinement(&self) -> Result<Option<Confinement>> {
        if !self.rooted {
            return Ok(None);
        }
        Ok(Some(Confinement {
            root: resolve_existing(&self.base)?,
        }))
    }

    /// The directories under the state directory that must be private (0700).
    pub fn private_dirs(&self) -> Vec<PathBuf> {
        vec![
            self.state.clone(),
            self.state.join("keys"),
            self.state.join("certs"),
            self.state.join("csr"),
            self.state.join("replies"),
        ]
    }
}

/// The root as resolved on disk, against which written paths are checked.
#[derive(Debug, Clone)]
pub struct Confinement {
    root: PathBuf,
}

impl Confinement {
    /// Refuses `path` when, following the symbolic links of the part that exists, it
    /// lands outside the root, or passes through a link that points nowhere.
    pub fn check(&self, path: &Path) -> Result<()> {
        let resolved = resolve_existing(path)?;
        if resolved.starts_with(&self.root) {
            return Ok(());
        }
        Err(PlatformError::Unsafe {
            path: path.to_path_buf(),
            message: format!(
                "leaves the root {} through a symbolic link (it resolves to {}); with --root every file stays under it",
                self.root.display(),
                resolved.display()
            ),
        })
    }
}

/// `path` with its longest existing part resolved (symbolic links followed) and the rest
/// appended as written.
fn resolve_existing(path: &Path) -> Result<PathBuf> {
    let mut existing = path;
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        if std::fs::symlink_metadata(existing).is_ok() {
            break;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return Ok(path.to_path_buf()),
        }
    }
    let mut resolved = std::fs::canonicalize(existing).map_err(|e| PlatformError::Unsafe {
        path: existing.to_path_buf(),
        message: format!("cannot be resolved ({e}); a symbolic link that points nowhere?"),
    })?;
    resolved.extend(rest.iter().rev());
    Ok(resolved)
}

/// Lexical normalisation: drops `.`, folds `..` into its parent (never above the root).
pub fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `PATH` + `suffix`, e.g. `/opt/web/tls` + `.crt`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_root_paths_are_relative_to_the_model() {
        let layout = Layout::new(Path::new("models/qms.toml"), None, "qms", Path::new("/w"));
        assert_eq!(layout.base(), Path::new("/w/models"));
        assert_eq!(
            layout.place("tls/web.p12").unwrap(),
            PathBuf::from("/w/models/tls/web.p12")
        );
        assert_eq!(
            layout.place("/opt/x/a.pem").unwrap(),
            PathBuf::from("/opt/x/a.pem")
        );
        assert_eq!(layout.state_dir(), Path::new("/w/models/.certfleet/qms"));
        assert_eq!(layout.ca_dir("ca").unwrap(), PathBuf::from("/w/models/ca"));
    }

    #[test]
    fn with_root_everything_is_under_it() {
        let layout = Layout::new(
            Path::new("/m/qms.toml"),
            Some(Path::new("stage")),
            "qms",
            Path::new("/w"),
        );
        assert_eq!(layout.base(), Path::new("/w/stage"));
        assert_eq!(
            layout.place("/opt/x/a.pem").unwrap(),
            PathBuf::from("/w/stage/opt/x/a.pem")
        );
        assert_eq!(
            layout.place("rel/a.pem").unwrap(),
            PathBuf::from("/w/stage/rel/a.pem")
        );
        assert_eq!(
            layout.ca_dir("/etc/ca").unwrap(),
            PathBuf::from("/w/stage/etc/ca")
        );
        assert_eq!(layout.state_dir(), Path::new("/w/stage/.certfleet/qms"));
    }

    #[test]
    fn traversal_out_of_the_root_is_refused() {
        let layout = Layout::new(
            Path::new("/m/qms.toml"),
            Some(Path::new("/r")),
            "qms",
            Path::new("/w"),
        );
        assert!(layout.place("../etc/passwd").is_err());
        assert!(layout.place("/opt/../../etc/passwd").is_err());
        assert!(layout.place("a/../../b").is_err());
        assert_eq!(layout.place("a/../b").unwrap(), PathBuf::from("/r/b"));
        assert!(layout.place("/").is_err());
        assert!(layout.place(".").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_out_of_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        let root = dir.path().join("root");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::create_dir_all(root.join("opt")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("opt/escape")).unwrap();
        std::os::unix::fs::symlink(root.join("opt"), root.join("inside")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("nowhere"), root.join("dangling")).unwrap();
        let layout = Layout::new(Path::new("m.toml"), Some(&root), "p", dir.path());
        let confinement = layout.confinement().unwrap().unwrap();
        confinement.check(&root.join("opt/new/a.pem")).unwrap();
        confinement.check(&root.join("inside/a.pem")).unwrap();
        let err = confinement
            .check(&root.join("opt/escape/x/a.pem"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("through a symbolic link"), "{err}");
        assert!(confinement.check(&root.join("dangling/a.pem")).is_err());
        let unrooted = Layout::new(Path::new("m.toml"), None, "p", dir.path());
        assert!(unrooted.confinement().unwrap().is_none());
    }
}
