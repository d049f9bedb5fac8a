//! Reload markers: the copy of a model whose every service reloads by appending a line to
//! its own marker file, the markers' stamps the prober polls, and the hold files that
//! make a service's reload fail until they are removed.
//!
//! A service's reload is `test ! -e DIR/hold-NAME && echo reload >> DIR/reload-NAME`:
//! each successful reload makes the marker longer (so two reloads within one clock tick
//! are still told apart), and while `DIR/hold-NAME` exists the reload exits 1, as a
//! service that fails to restart does.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A marker's length and modification time; a reload changes both.
pub type Stamp = (u64, SystemTime);

/// The directory holding the reload markers and hold files of one model copy.
#[derive(Debug, Clone)]
pub struct Markers {
    dir: PathBuf,
}

impl Markers {
    /// Markers in `dir` (created).
    pub fn new(dir: &Path) -> Markers {
        std::fs::create_dir_all(dir).unwrap();
        assert!(
            !dir.display().to_string().contains(['\'', ' ']),
            "marker directories are quoted into shell commands: {}",
            dir.display()
        );
        Markers {
            dir: dir.to_path_buf(),
        }
    }

    /// The file `service`'s reload appends to.
    pub fn marker(&self, service: &str) -> PathBuf {
        self.dir.join(format!("reload-{service}"))
    }

    /// The file whose presence makes `service`'s reload fail.
    pub fn hold_file(&self, service: &str) -> PathBuf {
        self.dir.join(format!("hold-{service}"))
    }

    /// The reload command written into the model for `service`.
    pub fn reload_command(&self, service: &str) -> String {
        format!(
            "test ! -e '{}' && echo reload >> '{}'",
            self.hold_file(service).display(),
            self.marker(service).display()
        )
    }

    /// From now on `service`'s reload fails (exit 1) and leaves its marker alone.
    pub fn hold(&self, service: &str) {
        std::fs::write(self.hold_file(service), "").unwrap();
    }

    /// `service`'s reload works again.
    pub fn release(&self, service: &str) {
        std::fs::remove_file(self.hold_file(service)).unwrap();
    }

    /// The marker's stamp, `None` before the first reload.
    pub fn stamp(&self, service: &str) -> Option<Stamp> {
        let meta = std::fs::metadata(self.marker(service)).ok()?;
        Some((meta.len(), meta.modified().unwrap()))
    }

    /// How many times `service` reloaded.
    pub fn reload_count(&self, service: &str) -> usize {
        std::fs::read_to_string(self.marker(service))
            .map(|text| text.lines().count())
            .unwrap_or(0)
    }

    /// Writes `source` to `dest` with every service's `reload` set to
    /// [`Markers::reload_command`] (added where the service had none), after `edit` has
    /// changed the model's tables as the test wants. The copy is TOML written by the
    /// `toml` crate: the same model, without the comments.
    pub fn write_model(
        &self,
        source: &Path,
        dest: &Path,
        edit: impl FnOnce(&mut toml::Table),
    ) -> toml::Table {
        let text = std::fs::read_to_string(source).unwrap();
        let mut model: toml::Table = text
            .parse()
            .unwrap_or_else(|e| panic!("{} is not TOML: {e}", source.display()));
        edit(&mut model);
        for service in services_mut(&mut model) {
            let name = service["name"].as_str().unwrap().to_owned();
            service.insert(
                "reload".into(),
                toml::Value::String(self.reload_command(&name)),
            );
        }
        std::fs::write(dest, toml::to_string(&model).unwrap()).unwrap();
        model
    }
}

/// The `[[service]]` tables of a model.
pub fn services_mut(model: &mut toml::Table) -> impl Iterator<Item = &mut toml::Table> {
    model
        .get_mut("service")
        .and_then(toml::Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_table_mut)
}
