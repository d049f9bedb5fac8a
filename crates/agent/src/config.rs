//! The node's own configuration, `agent.toml` in the data directory (or `--config FILE`):
//!
//! ```toml
//! servers = ["https://certs-1.example.test:8444", "https://certs-2.example.test:8444"]
//! poll_seconds = 60        # optional: wait between passes when a long poll is not held
//! root = "/srv/staging"    # optional: every output path is written under this directory
//!
//! [hooks]
//! jetty = "systemctl reload jetty"
//! ```
//!
//! `servers` are tried in order (the enrolment's server when absent); `hooks` are the only
//! commands the agent runs: the server names a hook, never a command. The file is refused
//! when users other than its owner could change it, since its hooks run as the agent.

use crate::error::{AgentError, Result};
use certfleet_platform::guard::{refuse_writable_by_others, Holder};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The configuration file's name in the data directory.
pub const FILE_NAME: &str = "agent.toml";

/// The agent's configuration, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentConfig {
    /// Where it was read from (`None`: no file, every default).
    pub file: Option<PathBuf>,
    /// The servers' agent listener URLs, tried in order.
    pub servers: Vec<String>,
    /// Hook names and their shell commands.
    pub hooks: BTreeMap<String, String>,
    /// Seconds between passes when the server does not hold the long poll.
    pub poll_seconds: Option<u64>,
    /// Every output path is placed under this directory (like apply's `--root`).
    pub root: Option<PathBuf>,
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    servers: Vec<String>,
    #[serde(default)]
    hooks: BTreeMap<String, String>,
    poll_seconds: Option<u64>,
    root: Option<PathBuf>,
}

impl AgentConfig {
    /// Reads `explicit` (which must exist), else `DATA_DIR/agent.toml` when it exists,
    /// else the defaults.
    pub fn load(data_dir: &Path, explicit: Option<&Path>) -> Result<Self> {
        match explicit {
            Some(file) => Self::read(file),
            None => {
                let file = data_dir.join(FILE_NAME);
                if file.exists() {
                    Self::read(&file)
                } else {
                    Ok(AgentConfig::default())
                }
            }
        }
    }

    /// Reads and checks one file.
    pub fn read(file: &Path) -> Result<Self> {
        let err = |key: &str, message: String| AgentError::Config {
            file: file.to_path_buf(),
            key: key.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(file).map_err(|e| err("file", e.to_string()))?;
        refuse_writable_by_others(
            file,
            &Holder {
                what: "the agent's configuration",
                commands: "hooks",
                runner: "runs the agent",
            },
        )
        .map_err(|e| err("file", e.to_string()))?;
        Self::parse(file, &text)
    }

    /// Checks the text of `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Self> {
        let err = |key: &str, message: String| AgentError::Config {
            file: file.to_path_buf(),
            key: key.to_owned(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            // toml's message names the key and the line; keep it on one line.
            let message = e.message().to_owned();
            let line = e.span().map(|span| {
                let start = span.start.min(text.len());
                text.as_bytes()[..start]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            });
            match line {
                Some(line) => err(&format!("line {line}"), message),
                None => err("file", message),
            }
        })?;
        for (index, server) in raw.servers.iter().enumerate() {
            let key = format!("servers[{index}]");
            let uri: hyper::Uri = server
                .parse()
                .map_err(|_| err(&key, format!("'{server}' is not a URL")))?;
            if uri.scheme_str() != Some("https") || uri.host().is_none() {
                return Err(err(
                    &key,
                    format!("'{server}' must be an https:// URL with a host"),
                ));
            }
        }
        for (name, command) in &raw.hooks {
            if command.trim().is_empty() {
                return Err(err(&format!("hooks.{name}"), "the command is empty".into()));
            }
        }
        if raw.poll_seconds == Some(0) {
            return Err(err("poll_seconds", "must be at least 1".into()));
        }
        if let Some(root) = &raw.root {
            if !root.is_absolute() {
                return Err(err(
                    "root",
                    format!("'{}' must be an absolute path", root.display()),
                ));
            }
        }
        Ok(AgentConfig {
            file: Some(file.to_path_buf()),
            servers: raw.servers,
            hooks: raw.hooks,
            poll_seconds: raw.poll_seconds,
            root: raw.root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn parse(text: &str) -> Result<AgentConfig> {
        AgentConfig::parse(Path::new("/etc/agent.toml"), text)
    }

    #[test]
    fn a_full_config_reads() {
        let c = parse(
            "servers = [\"https://a.test:8444\", \"https://127.0.0.1:8444\"]\npoll_seconds = 30\n[hooks]\njetty = \"systemctl reload jetty\"\n",
        )
        .unwrap();
        assert_eq!(c.servers.len(), 2);
        assert_eq!(c.hooks["jetty"], "systemctl reload jetty");
        assert_eq!(c.poll_seconds, Some(30));
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let cases = [
            ("servers = [\"http://a.test\"]", "servers[0]"),
            ("servers = [\"https://ok.test\", \"::\"]", "servers[1]"),
            ("[hooks]\nweb = \" \"", "hooks.web"),
            ("poll_seconds = 0", "poll_seconds"),
            ("root = \"rel/dir\"", "root"),
            ("servers = []\nhook = 1", "line 2"),
        ];
        for (text, key) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with("/etc/agent.toml: "), "{e}");
            assert!(e.contains(&format!(": {key}: ")), "{text}: {e}");
        }
        let e = parse("servers = [\"https://ok.test\"]\nhook = 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("hook"), "{e}");
    }

    #[test]
    fn a_file_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, "[hooks]\nx = \"true\"\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(AgentConfig::load(dir.path(), None).unwrap().hooks.len(), 1);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = AgentConfig::load(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("writable by other users"), "{e}");
        assert!(e.starts_with(&file.display().to_string()), "{e}");
        // No file: the defaults.
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            AgentConfig::load(empty.path(), None).unwrap(),
            AgentConfig::default()
        );
        // An explicit file must exist.
        assert!(AgentConfig::load(empty.path(), Some(&empty.path().join("nope"))).is_err());
    }
}
