//! Python tools the tests run from the project's venv (`<workspace root>/.venv-test`,
//! made by `scripts/install-test-deps`): pkilint's linters and sslyze.

use std::path::{Path, PathBuf};

/// The tool `name` of the PyPI package `package`: from `<workspace root>/.venv-test/bin/`,
/// else from PATH. Panics (failing the test, never skipping it) when it is in neither.
pub fn venv_tool(package: &str, name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let venv = root.join(".venv-test/bin").join(name);
    if venv.is_file() {
        return venv;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| {
        panic!(
            "{package}'s `{name}` was found neither in {} nor on PATH: \
             run scripts/install-test-deps (or scripts/test) first",
            venv.display()
        )
    })
}
