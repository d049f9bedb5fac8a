//! certfleet-config: the configuration file of `certfleet serve`, read in two stages:
//! raw TOML (refusing unknown keys, with the line) and then a validated, typed
//! [`ServerConfig`] that the server builds from. [`load`] reads a file, [`load_text`]
//! text already in memory.
//!
//! Any string value may be `CRYPT:...`; such values are decrypted with the data
//! directory's master key (or `CERTFLEET_MASTER_KEY`) before validation, and errors name
//! the key, never the value. A value sealed for one key (`certfleet encrypt --for
//! route.basic_auth_password`) does not open under another.

#![warn(unreachable_pub)]

mod agents;
mod limits;
mod metrics;
mod platforms;
mod raw;
mod secret_files;
mod validate;
mod warnings;

pub use agents::{
    AgentsConfig, ListenerName, DEFAULT_IDENTITY_DAYS, DEFAULT_ROTATION_STALL_AFTER,
    DEFAULT_UNSEEN_AFTER,
};
pub use limits::ConnectionLimits;
pub use metrics::{MetricsConfig, MetricsToken, MIN_TOKEN_CHARS};
pub use secret_files::refuse_open_secret_file;
pub use validate::{
    AdminConfig, BasicAuth, ClientAuth, HttpConfig, InsecurePolicy, ListenerConfig, PlatformConfig,
    RouteConfig, ServerConfig, StoreBackend, TlsProfile, UpstreamTrust,
};

use anyhow::{Context, Result};
use certfleet_secrets::{resolve_for, MasterKey, CRYPT_PREFIX, MASTER_KEY_FILE};
use raw::RawConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The data directory when neither the file nor the command line names one.
pub const DEFAULT_DATA_DIR: &str = "./certfleet-data";

/// Loads `file` (or the defaults when `None`); `data_dir` from the command line wins over
/// the file's.
pub fn load(file: Option<&Path>, data_dir: Option<&Path>) -> Result<ServerConfig> {
    let Some(file) = file else {
        let dir = data_dir.map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), Path::to_path_buf);
        return validate::build(RawConfig::default(), dir);
    };
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).with_context(|| format!("{name}: cannot read"))?;
    load_text(&text, &name, data_dir)
}

/// Reads the configuration `text` of the file `name` (which messages name);
/// `data_dir` from the command line wins over the text's.
pub fn load_text(text: &str, name: &str, data_dir: Option<&Path>) -> Result<ServerConfig> {
    let name = name.to_owned();
    // Stage 1: structure, with toml's line and key in the message.
    let structural: RawConfig =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{name}: {}", e.to_string().trim()))?;
    let dir = data_dir
        .map(Path::to_path_buf)
        .or_else(|| structural.data_dir.as_deref().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    // Stage 2: CRYPT: values opened, then meaning checked.
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{name}: {}", e.to_string().trim()))?;
    if contains_crypt(&toml::Value::Table(table.clone())) {
        refuse_open_secret_file(&dir.join(MASTER_KEY_FILE)).with_context(|| name.clone())?;
        let key = MasterKey::load(&dir)
            .with_context(|| name.clone())?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{name}: holds CRYPT: values but there is no master key in {} and CERTFLEET_MASTER_KEY is not set",
                    dir.display()
                )
            })?;
        open_crypt_values(&mut table, "", &key).with_context(|| name.clone())?;
    }
    let raw = RawConfig::deserialize(toml::Value::Table(table))
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut config = validate::build(raw, dir).with_context(|| name.clone())?;
    config.warnings = warnings::config_warnings(&structural)
        .into_iter()
        .map(|warning| format!("{name}: {warning}"))
        .collect();
    Ok(config)
}

fn contains_crypt(value: &toml::Value) -> bool {
    match value {
        toml::Value::String(s) => s.starts_with(CRYPT_PREFIX),
        toml::Value::Array(items) => items.iter().any(contains_crypt),
        toml::Value::Table(table) => table.values().any(contains_crypt),
        _ => false,
    }
}

fn open_crypt_values(table: &mut toml::Table, path: &str, key: &MasterKey) -> Result<()> {
    for (name, value) in table.iter_mut() {
        let here = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        open_value(value, &here, key)?;
    }
    Ok(())
}

fn open_value(value: &mut toml::Value, path: &str, key: &MasterKey) -> Result<()> {
    match value {
        toml::Value::String(s) if s.starts_with(CRYPT_PREFIX) => {
            let plain = resolve_for(s, Some(key), &field_of(path))
                .with_context(|| format!("key {path}"))?;
            *s = plain.to_string();
        }
        toml::Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                open_value(item, &format!("{path}[{}]", index + 1), key)?;
            }
        }
        toml::Value::Table(inner) => open_crypt_values(inner, path, key)?,
        _ => {}
    }
    Ok(())
}

/// The field a `CRYPT:` value at `path` is bound to: the key path without array
/// positions (`route[2].basic_auth_password` → `route.basic_auth_password`), so that
/// reordering routes keeps their values valid.
fn field_of(path: &str) -> String {
    let mut field = String::with_capacity(path.len());
    let mut in_position = false;
    for c in path.chars() {
        match c {
            '[' => in_position = true,
            ']' => in_position = false,
            _ if !in_position => field.push(c),
            _ => {}
        }
    }
    field
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("certfleet.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn no_file_gives_loopback_defaults() {
        let config = load(None, None).unwrap();
        assert!(config.admin.listen.ip().is_loopback());
        assert!(config.http.listen.ip().is_loopback());
        assert_eq!(config.listeners.len(), 1);
        assert!(config.listeners[0].https.ip().is_loopback());
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "[admin]\nlisten = \"127.0.0.1:9443\"\nlisten_port = 1\n",
        );
        let err = format!("{:#}", load(Some(&file), None).unwrap_err());
        assert!(err.contains("listen_port"), "{err}");
        assert!(err.contains("certfleet.toml"), "{err}");
    }

    #[test]
    fn the_acme_email_is_optional_and_must_be_an_address() {
        let none = load_text("", "certfleet.toml", None).unwrap();
        assert_eq!(none.acme_email, None);
        let set = load_text("[acme]\nemail = \"pki@example.test\"\n", "c.toml", None).unwrap();
        assert_eq!(set.acme_email.as_deref(), Some("pki@example.test"));
        let err = format!(
            "{:#}",
            load_text("[acme]\nemail = \"pki\"\n", "c.toml", None).unwrap_err()
        );
        assert!(err.contains("[acme] email"), "{err}");
    }

    #[test]
    fn monitor_settings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let config = load(None, Some(dir.path())).unwrap();
        assert_eq!(config.monitor_interval.as_secs(), 300);
        assert_eq!(config.warn_days, 14);
        assert!(config.webhook.is_none());
        let file = write(
            dir.path(),
            "[monitor]\nwarn_days = 30\ninterval_seconds = 2\nwebhook = \"http://127.0.0.1:9/hook\"\n",
        );
        let config = load(Some(&file), Some(dir.path())).unwrap();
        assert_eq!(config.monitor_interval.as_secs(), 2);
        assert_eq!(config.webhook.as_deref(), Some("http://127.0.0.1:9/hook"));
        for (bad, named) in [
            ("interval_seconds = 0", "interval_seconds"),
            ("webhook = \"ftp://h/x?token=s3cret\"", "webhook"),
            ("webhook = \"not a url s3cret\"", "webhook"),
        ] {
            let file = write(dir.path(), &format!("[monitor]\n{bad}\n"));
            let err = format!("{:#}", load(Some(&file), Some(dir.path())).unwrap_err());
            assert!(err.contains(named), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn admin_session_timeout_and_cors_origins_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let config = load(None, Some(dir.path())).unwrap();
        assert_eq!(config.admin.session_timeout.as_secs(), 30 * 60);
        assert!(config.admin.cors_origins.is_empty());
        let file = write(
            dir.path(),
            "[admin]\nsession_timeout_minutes = 5\ncors_origins = [\"https://ui.example.test:8443\"]\n",
        );
        let config = load(Some(&file), None).unwrap();
        assert_eq!(config.admin.session_timeout.as_secs(), 300);
        assert_eq!(config.admin.cors_origins, ["https://ui.example.test:8443"]);
        for (bad, key) in [
            ("session_timeout_minutes = 0", "session_timeout_minutes"),
            ("cors_origins = [\"*\"]", "cors_origins"),
            (
                "cors_origins = [\"https://ui.example.test/\"]",
                "cors_origins",
            ),
            ("cors_origins = [\"ui.example.test\"]", "cors_origins"),
        ] {
            let file = write(dir.path(), &format!("[admin]\n{bad}\n"));
            let err = format!("{:#}", load(Some(&file), None).unwrap_err());
            assert!(err.contains(key), "{bad}: {err}");
        }
    }

    #[test]
    fn clear_basic_auth_passwords_are_warned_about_without_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let route = |password: &str| {
            format!("[[route]]\nhost = \"app.example.test\"\nupstream = \"http://127.0.0.1:9000\"\nbasic_auth_user = \"gw\"\nbasic_auth_password = \"{password}\"\n")
        };
        let file = write(dir.path(), &route("s3cret-Pass!"));
        let config = load(Some(&file), Some(dir.path())).unwrap();
        assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
        let warning = &config.warnings[0];
        assert!(warning.contains("basic_auth_password"), "{warning}");
        assert!(warning.contains("certfleet.toml"), "{warning}");
        assert!(!warning.contains("s3cret"), "{warning}");
        let file = write(
            dir.path(),
            &route("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"),
        );
        let config = load(Some(&file), Some(dir.path())).unwrap();
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }

    #[test]
    fn limits_and_session_lifetime_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let config = load(None, Some(dir.path())).unwrap();
        assert_eq!(config.limits, ConnectionLimits::default());
        assert_eq!(config.admin.session_lifetime.as_secs(), 12 * 60 * 60);
        let file = write(
            dir.path(),
            "[admin]\nsession_lifetime_seconds = 5\n[limits]\nheader_timeout_seconds = 2\nidle_timeout_seconds = 7\nmax_connections = 40\n",
        );
        let config = load(Some(&file), Some(dir.path())).unwrap();
        assert_eq!(config.admin.session_lifetime.as_secs(), 5);
        assert_eq!(config.limits.header_timeout.as_secs(), 2);
        assert_eq!(config.limits.idle_timeout.as_secs(), 7);
        assert_eq!(config.limits.max_connections, 40);
        for (bad, key) in [
            (
                "[admin]\nsession_lifetime_seconds = 0\n",
                "session_lifetime_seconds",
            ),
            ("[limits]\nmax_connections = 0\n", "max_connections"),
            ("[limits]\nread_timeout = 3\n", "read_timeout"),
        ] {
            let file = write(dir.path(), bad);
            let err = format!("{:#}", load(Some(&file), Some(dir.path())).unwrap_err());
            assert!(err.contains(key), "{bad}: {err}");
        }
    }

    #[test]
    fn crypt_values_are_opened_and_wrong_keys_named() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let key = MasterKey::load_or_create(&data).unwrap();
        let sealed = key.seal(b"s3cret-Pass!").unwrap();
        let text = format!(
            "data_dir = \"{}\"\n[[route]]\nhost = \"app.example.test\"\nupstream = \"http://127.0.0.1:9000\"\nbasic_auth_user = \"gw\"\nbasic_auth_password = \"{sealed}\"\n",
            data.display()
        );
        let file = write(dir.path(), &text);
        let config = load(Some(&file), None).unwrap();
        let auth = config.routes[0].basic_auth.as_ref().unwrap();
        assert!(auth.matches("gw", "s3cret-Pass!"));
        assert!(!auth.matches("gw", "wrong"));

        let other = dir.path().join("other");
        MasterKey::load_or_create(&other).unwrap();
        let err = format!("{:#}", load(Some(&file), Some(&other)).unwrap_err());
        assert!(err.contains("route[1].basic_auth_password"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn a_crypt_value_sealed_for_another_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let key = MasterKey::load_or_create(&data).unwrap();
        let route = |password: &str| {
            format!(
                "data_dir = \"{}\"\n[[route]]\nhost = \"app.example.test\"\nupstream = \"http://127.0.0.1:9000\"\nbasic_auth_user = \"gw\"\nbasic_auth_password = \"{password}\"\n",
                data.display()
            )
        };
        let bound = key
            .seal_for(b"s3cret-Pass!", "route.basic_auth_password")
            .unwrap();
        let file = write(dir.path(), &route(&bound));
        let config = load(Some(&file), None).unwrap();
        let auth = config.routes[0].basic_auth.as_ref().unwrap();
        assert!(auth.matches("gw", "s3cret-Pass!"));

        let moved = key
            .seal_for(b"s3cret-Pass!", "route.upstream_trust_password")
            .unwrap();
        let file = write(dir.path(), &route(&moved));
        let err = format!("{:#}", load(Some(&file), None).unwrap_err());
        assert!(err.contains("route[1].basic_auth_password"), "{err}");
        assert!(
            err.contains("sealed for route.upstream_trust_password"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    }
}
