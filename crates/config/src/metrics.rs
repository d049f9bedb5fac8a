//! `[metrics]`: a read-only credential for `GET /metrics`, so that a Prometheus server
//! scrapes without holding the admin token. Optional: without the block only the admin
//! token opens `/metrics`.
//!
//! ```toml
//! [metrics]
//! token = "CRYPT:..."          # or the token itself, or an argon2 hash of it ("$argon2id$...")
//! # token_file = "/etc/certfleet/metrics.token"   # instead: a file of mode 0600 holding it
//! ```
//!
//! The token is accepted on `/metrics` only, never on the API. Like every string of the
//! file it may be `CRYPT:` (sealed with `certfleet encrypt --for metrics.token`); like a
//! route's `basic_auth_password` it may be an argon2 hash. A token given in clear (in
//! the file or the token file) must be at least [`MIN_TOKEN_CHARS`] characters long.

use crate::secret_files::refuse_open_secret_file;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The shortest token accepted in clear.
pub const MIN_TOKEN_CHARS: usize = 16;

/// `[metrics]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMetrics {
    pub(crate) token: Option<String>,
    pub(crate) token_file: Option<String>,
}

/// `[metrics]`, checked.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    /// The scrape token, when one is configured.
    pub token: Option<MetricsToken>,
}

/// The scrape token: the token itself or an argon2 hash of it, compared in constant
/// time (or verified against the hash). Never printed.
#[derive(Clone)]
pub struct MetricsToken {
    secret: Zeroizing<String>,
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsToken").finish_non_exhaustive()
    }
}

impl MetricsToken {
    /// True when `presented` is the configured token.
    pub fn matches(&self, presented: &str) -> bool {
        if presented.is_empty() {
            return false;
        }
        if is_argon2_hash(&self.secret) {
            use argon2::{PasswordHash, PasswordVerifier};
            return PasswordHash::new(&self.secret).is_ok_and(|hash| {
                argon2::Argon2::default()
                    .verify_password(presented.as_bytes(), &hash)
                    .is_ok()
            });
        }
        aws_lc_rs::constant_time::verify_slices_are_equal(
            presented.as_bytes(),
            self.secret.as_bytes(),
        )
        .is_ok()
    }
}

fn is_argon2_hash(secret: &str) -> bool {
    secret.starts_with("$argon2")
}

/// Checks `[metrics]`: at most one of `token` and `token_file`, a token long enough or
/// a readable argon2 hash, a token file only its owner may read.
pub(crate) fn metrics_config(raw: Option<RawMetrics>) -> Result<MetricsConfig> {
    let Some(raw) = raw else {
        return Ok(MetricsConfig::default());
    };
    let (secret, key) = match (raw.token, raw.token_file) {
        (Some(_), Some(_)) => {
            bail!("[metrics]: token and token_file both set; keep one")
        }
        (None, None) => bail!("[metrics]: needs token or token_file"),
        (Some(token), None) => (Zeroizing::new(token), "[metrics] token".to_owned()),
        (None, Some(file)) => {
            let path = PathBuf::from(&file);
            let key = format!("[metrics] token_file {}", path.display());
            refuse_open_secret_file(&path).with_context(|| key.clone())?;
            let text = Zeroizing::new(
                std::fs::read_to_string(&path).with_context(|| format!("{key}: cannot read"))?,
            );
            (Zeroizing::new(text.trim().to_owned()), key)
        }
    };
    if is_argon2_hash(&secret) {
        if argon2::PasswordHash::new(&secret).is_err() {
            bail!("{key}: starts like an argon2 hash but does not read as one");
        }
    } else if secret.chars().count() < MIN_TOKEN_CHARS {
        bail!(
            "{key}: a token of at least {MIN_TOKEN_CHARS} characters is needed (e.g. openssl rand -hex 32)"
        );
    }
    Ok(MetricsConfig {
        token: Some(MetricsToken { secret }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(token: Option<&str>, token_file: Option<&str>) -> Option<RawMetrics> {
        Some(RawMetrics {
            token: token.map(str::to_owned),
            token_file: token_file.map(str::to_owned),
        })
    }

    #[test]
    fn the_token_matches_itself_only() {
        let config = metrics_config(raw(Some("scrape-0123456789abcdef"), None)).unwrap();
        let token = config.token.unwrap();
        assert!(token.matches("scrape-0123456789abcdef"));
        assert!(!token.matches("scrape-0123456789abcdeF"));
        assert!(!token.matches(""));
        assert!(!format!("{token:?}").contains("scrape"));
        assert!(metrics_config(None).unwrap().token.is_none());
    }

    #[test]
    fn an_argon2_hash_is_verified() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"metrics-salt-16b").unwrap();
        let hash = argon2::Argon2::default()
            .hash_password(b"short", &salt)
            .unwrap()
            .to_string();
        let token = metrics_config(raw(Some(&hash), None))
            .unwrap()
            .token
            .unwrap();
        assert!(token.matches("short"));
        assert!(!token.matches("shorter"));
        assert!(!token.matches(&hash));
        let err =
            metrics_config(raw(Some("$argon2id$v=19$m=19456,t=2,p=1$!!$!!"), None)).unwrap_err();
        assert!(err.to_string().contains("[metrics] token"), "{err}");
    }

    #[test]
    fn a_token_file_is_read_when_only_its_owner_may() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.token");
        std::fs::write(&path, "file-token-0123456789\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = metrics_config(raw(None, path.to_str())).unwrap_err();
            assert!(format!("{err:#}").contains("chmod 600"), "{err:#}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let token = metrics_config(raw(None, path.to_str()))
            .unwrap()
            .token
            .unwrap();
        assert!(token.matches("file-token-0123456789"));
    }

    #[test]
    fn a_token_sealed_for_metrics_token_is_opened_from_the_file() {
        use certfleet_secrets::MasterKey;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let key = MasterKey::load_or_create(&data).unwrap();
        let sealed = key
            .seal_for(b"sealed-scrape-token-0123", "metrics.token")
            .unwrap();
        let text = format!(
            "data_dir = \"{}\"\n[metrics]\ntoken = \"{sealed}\"\n",
            data.display()
        );
        let config = crate::load_text(&text, "certfleet.toml", None).unwrap();
        let token = config.metrics.token.unwrap();
        assert!(token.matches("sealed-scrape-token-0123"));
        let unknown = crate::load_text("[metrics]\nuser = \"x\"\n", "certfleet.toml", None);
        assert!(format!("{:#}", unknown.unwrap_err()).contains("user"));
    }

    #[test]
    fn one_source_and_a_long_enough_token_are_needed() {
        for (bad, says) in [
            (raw(Some("0123456789abcdef"), Some("/x")), "both set"),
            (raw(None, None), "needs token or token_file"),
            (raw(Some("short"), None), "at least 16 characters"),
            (raw(None, Some("/nonexistent/metrics.token")), "cannot read"),
        ] {
            let err = format!("{:#}", metrics_config(bad).unwrap_err());
            assert!(err.contains(says), "{err}");
            assert!(err.contains("[metrics]"), "{err}");
        }
    }
}
