//! `[[platform]]` blocks: the platform models the server's API may plan and apply.
//!
//! Models are named in the server's own configuration, never sent over the API: a
//! model's `reload` lines are shell commands the server runs as its own user, so only
//! whoever may write this configuration decides which models (and so which commands)
//! exist. For the same reason a model whose reloads run must not be writable by other
//! users; `run_reloads = false` makes the API write files only, leaving each reload
//! pending for an apply on the host.

use super::raw::RawPlatform;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// One `[[platform]]`, checked.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// The model's `[platform] name`, which names it in the API.
    pub name: String,
    /// The model file (absolute).
    pub model: PathBuf,
    /// Every output under this directory (as `--root`), when set (absolute).
    pub root: Option<PathBuf>,
    /// Whether an apply through the API runs the model's reload commands (default true).
    pub run_reloads: bool,
}

/// Checks every `[[platform]]`: the model exists and is valid, names are unique, and a
/// model whose reloads run is writable by its owner only.
pub(crate) fn platform_configs(raw: Vec<RawPlatform>) -> Result<Vec<PlatformConfig>> {
    let cwd = std::env::current_dir().context("the current directory")?;
    let mut platforms: Vec<PlatformConfig> = Vec::with_capacity(raw.len());
    for (index, block) in raw.into_iter().enumerate() {
        let label = format!("[[platform]] #{} (model {})", index + 1, block.model);
        let config = platform_config(block, &cwd).context(label.clone())?;
        if let Some(earlier) = platforms.iter().find(|p| p.name == config.name) {
            bail!(
                "{label}: platform name '{}' is already used by {}; each model needs its own [platform] name",
                config.name,
                earlier.model.display()
            );
        }
        platforms.push(config);
    }
    Ok(platforms)
}

fn platform_config(block: RawPlatform, cwd: &Path) -> Result<PlatformConfig> {
    if block.model.trim().is_empty() {
        bail!("model: must name the model file");
    }
    let model = cwd.join(&block.model);
    let run_reloads = block.run_reloads.unwrap_or(true);
    let platform = certfleet_platform::engine::load_model(&model).context("model")?;
    if run_reloads {
        certfleet_platform::guard::refuse_model_writable_by_others(&model)
            .context("model (or set run_reloads = false)")?;
    }
    let root = match block.root.as_deref() {
        Some("") => bail!("root: must name a directory (or leave the key out)"),
        Some(root) => Some(cwd.join(root)),
        None => None,
    };
    Ok(PlatformConfig {
        name: platform.name,
        model,
        root,
        run_reloads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const MODEL: &str = "[platform]\nname = \"qms\"\nca = \"self-signed\"\n\n[[node]]\nname = \"n1\"\nfqdn = \"n1.example.test\"\n\n[[service]]\nname = \"web\"\nnode = \"n1\"\nusage = \"server\"\nreload = \"true\"\n\n[[service.output]]\nformat = \"pem-pair\"\npath = \"out/web\"\n";

    fn model_in(dir: &Path, file: &str, text: &str, mode: u32) -> String {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path.display().to_string()
    }

    fn block(model: String) -> RawPlatform {
        RawPlatform {
            model,
            root: None,
            run_reloads: None,
        }
    }

    #[test]
    fn a_valid_model_is_named_by_its_platform_name() {
        let dir = tempfile::tempdir().unwrap();
        let model = model_in(dir.path(), "qms.toml", MODEL, 0o644);
        let configs = platform_configs(vec![block(model.clone())]).unwrap();
        assert_eq!(configs.len(), 1);
        assert_eq!(configs[0].name, "qms");
        assert_eq!(configs[0].model, PathBuf::from(model));
        assert!(configs[0].run_reloads);
    }

    #[test]
    fn a_world_writable_model_with_reloads_is_refused_but_allowed_without() {
        let dir = tempfile::tempdir().unwrap();
        let model = model_in(dir.path(), "qms.toml", MODEL, 0o666);
        let err = format!(
            "{:#}",
            platform_configs(vec![block(model.clone())]).unwrap_err()
        );
        assert!(err.contains("[[platform]] #1"), "{err}");
        assert!(err.contains("writable by other users"), "{err}");
        let mut quiet = block(model);
        quiet.run_reloads = Some(false);
        assert!(!platform_configs(vec![quiet]).unwrap()[0].run_reloads);
    }

    #[test]
    fn an_invalid_model_names_the_block_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let model = model_in(dir.path(), "bad.toml", "[platform]\nnme = \"x\"\n", 0o644);
        let err = format!("{:#}", platform_configs(vec![block(model)]).unwrap_err());
        assert!(err.contains("[[platform]] #1"), "{err}");
        assert!(err.contains("bad.toml:2"), "{err}");
    }

    #[test]
    fn two_models_of_one_name_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = model_in(dir.path(), "a.toml", MODEL, 0o644);
        let b = model_in(dir.path(), "b.toml", MODEL, 0o644);
        let err = format!(
            "{:#}",
            platform_configs(vec![block(a), block(b)]).unwrap_err()
        );
        assert!(err.contains("[[platform]] #2"), "{err}");
        assert!(err.contains("'qms' is already used"), "{err}");
    }

    #[test]
    fn a_missing_model_is_named() {
        let err = format!(
            "{:#}",
            platform_configs(vec![block("/nonexistent/m.toml".into())]).unwrap_err()
        );
        assert!(err.contains("/nonexistent/m.toml"), "{err}");
    }
}
