//! The saved client context: which server the client commands talk to when neither a
//! flag nor an environment variable says so, kept in the user's configuration directory
//! so that commands work from any directory without repeating `--server`, `--data-dir`
//! and `--token`.
//!
//! The context directory is `$CERTFLEET_CONTEXT_DIR`, else
//! `$XDG_CONFIG_HOME/certfleet`, else `$HOME/.config/certfleet`. It holds `context.toml`
//! (the server's URL and, when the token is read from there, the server's data
//! directory), `default.pem` (a copy of the certificate the admin listener presents, to
//! pin it) and, when one was given, `admin.token` (mode 0600). The directory is made
//! 0700.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The environment variable naming the context directory.
pub const CONTEXT_DIR_ENV: &str = "CERTFLEET_CONTEXT_DIR";

/// `context.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedContext {
    /// The admin listener's URL.
    pub server: String,
    /// The server's data directory, when the token is read from its `admin.token`
    /// (absent when the token was saved in the context directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

/// The context directory, from the environment; `None` when no home is known.
pub fn context_dir() -> Option<PathBuf> {
    let from = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from(CONTEXT_DIR_ENV)
        .or_else(|| from("XDG_CONFIG_HOME").map(|dir| dir.join("certfleet")))
        .or_else(|| from("HOME").map(|home| home.join(".config/certfleet")))
}

/// A saved context as the client commands use it.
#[derive(Debug)]
pub struct ClientContext {
    /// Where it was read from.
    pub dir: PathBuf,
    /// `context.toml`.
    pub saved: SavedContext,
}

impl ClientContext {
    /// The saved context in `dir`, or `None` when nothing was saved there.
    pub fn load(dir: &Path) -> Result<Option<Self>> {
        let file = dir.join("context.toml");
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| file.display().to_string()),
        };
        let saved: SavedContext = toml::from_str(&text)
            .with_context(|| format!("{}: not a saved context", file.display()))?;
        Ok(Some(ClientContext {
            dir: dir.to_owned(),
            saved,
        }))
    }

    /// The pinned certificate's copy.
    pub fn pinned_file(&self) -> PathBuf {
        self.dir.join("default.pem")
    }

    /// The saved token, when one was saved.
    pub fn token(&self) -> Result<Option<Zeroizing<String>>> {
        let file = self.dir.join("admin.token");
        match std::fs::read_to_string(&file) {
            Ok(text) => Ok(Some(Zeroizing::new(text.trim().to_owned()))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| file.display().to_string()),
        }
    }
}

/// What `certfleet context save` writes.
pub struct NewContext<'a> {
    /// The admin listener's URL.
    pub server: &'a str,
    /// The server's data directory (absolute).
    pub data_dir: &'a Path,
    /// The certificate the admin listener presents (PEM), to pin.
    pub pinned_pem: &'a [u8],
    /// A token to keep in the context directory, instead of reading the data
    /// directory's each time.
    pub token: Option<&'a str>,
}

/// Writes the context into `dir` (made 0700), replacing what was saved there; a token
/// file is written 0600 and a stale one removed.
pub fn save(dir: &Path, new: &NewContext<'_>) -> Result<()> {
    if !new.data_dir.is_absolute() {
        bail!(
            "--data-dir: {} is not an absolute path",
            new.data_dir.display()
        );
    }
    make_private_dir(dir)?;
    let saved = SavedContext {
        server: new.server.trim_end_matches('/').to_owned(),
        data_dir: new.token.is_none().then(|| new.data_dir.to_owned()),
    };
    write_file(&dir.join("default.pem"), new.pinned_pem, 0o644)?;
    let token_file = dir.join("admin.token");
    match new.token {
        Some(token) => write_file(&token_file, token.as_bytes(), 0o600)?,
        None => match std::fs::remove_file(&token_file) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| token_file.display().to_string()),
        },
    }
    let text = toml::to_string(&saved).context("writing the context")?;
    write_file(&dir.join("context.toml"), text.as_bytes(), 0o644)
}

/// Removes a saved context from `dir`; whether there was one.
pub fn clear(dir: &Path) -> Result<bool> {
    let mut removed = false;
    for name in ["context.toml", "default.pem", "admin.token"] {
        let file = dir.join(name);
        match std::fs::remove_file(&file) {
            Ok(()) => removed = true,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| file.display().to_string()),
        }
    }
    Ok(removed)
}

fn make_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| dir.display().to_string())?;
    }
    Ok(())
}

/// Writes `path` through a temporary file renamed into place, with `mode` from the start.
fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file =
        tempfile::NamedTempFile::new_in(dir).with_context(|| dir.display().to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| path.display().to_string())?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(contents)
        .with_context(|| path.display().to_string())?;
    file.persist(path)
        .map_err(|e| e.error)
        .with_context(|| path.display().to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_round_trips_and_a_saved_token_replaces_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let ctx_dir = dir.path().join("ctx");
        assert!(ClientContext::load(&ctx_dir).unwrap().is_none());
        let data = dir.path().join("data");
        save(
            &ctx_dir,
            &NewContext {
                server: "https://127.0.0.1:9443/",
                data_dir: &data,
                pinned_pem: b"PEM",
                token: None,
            },
        )
        .unwrap();
        let loaded = ClientContext::load(&ctx_dir).unwrap().unwrap();
        assert_eq!(loaded.saved.server, "https://127.0.0.1:9443");
        assert_eq!(loaded.saved.data_dir.as_deref(), Some(data.as_path()));
        assert!(loaded.token().unwrap().is_none());
        assert_eq!(std::fs::read(loaded.pinned_file()).unwrap(), b"PEM");

        save(
            &ctx_dir,
            &NewContext {
                server: "https://127.0.0.1:9443",
                data_dir: &data,
                pinned_pem: b"PEM",
                token: Some("t0ken"),
            },
        )
        .unwrap();
        let loaded = ClientContext::load(&ctx_dir).unwrap().unwrap();
        assert_eq!(loaded.saved.data_dir, None);
        assert_eq!(loaded.token().unwrap().unwrap().as_str(), "t0ken");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&ctx_dir.join("admin.token")), 0o600);
            assert_eq!(mode(&ctx_dir), 0o700);
        }
        assert!(clear(&ctx_dir).unwrap());
        assert!(ClientContext::load(&ctx_dir).unwrap().is_none());
        assert!(!clear(&ctx_dir).unwrap());
    }

    #[test]
    fn a_relative_data_directory_and_a_broken_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = save(
            dir.path(),
            &NewContext {
                server: "https://h:1",
                data_dir: Path::new("data"),
                pinned_pem: b"",
                token: None,
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("not an absolute path"), "{err}");
        std::fs::write(dir.path().join("context.toml"), "server = 3\n").unwrap();
        let err = format!("{:#}", ClientContext::load(dir.path()).unwrap_err());
        assert!(err.contains("context.toml: not a saved context"), "{err}");
    }
}
