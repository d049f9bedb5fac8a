//! Running the certfleet binary under test, checking its exit status, and
//! scratch directories that are removed when the test ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs the certfleet binary built for this test run with `args`, stdin closed.
pub fn certfleet(args: &[&str]) -> Output {
    certfleet_in(None, args)
}

/// Like [`certfleet`], with `dir` as the working directory when given.
pub fn certfleet_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certfleet"));
    cmd.args(args)
        .stdin(Stdio::null())
        .env("CERTFLEET_CONTEXT_DIR", NO_CONTEXT);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd.output().expect("failed to start the certfleet binary")
}

/// A context directory that does not exist: no client command of a test falls back on a
/// context saved by whoever runs the tests (`certfleet context save`).
pub const NO_CONTEXT: &str = "/nonexistent/certfleet-test-context";

/// certfleet's own environment variables: [`certfleet_with_env`] clears them all but the
/// ones a test sets, so that the environment the tests run in cannot change their outcome.
const CERTFLEET_VARS: [&str; 7] = [
    "CERTFLEET_SERVER",
    "CERTFLEET_CONTEXT_DIR",
    "CERTFLEET_DATA_DIR",
    "CERTFLEET_TOKEN",
    "CERTFLEET_MASTER_KEY",
    "CERTFLEET_LOG",
    "CERTFLEET_LOG_FORMAT",
];

/// Runs the certfleet binary in `dir` with `args`, stdin closed, and of certfleet's own
/// environment variables exactly `vars`.
pub fn certfleet_with_env(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certfleet"));
    cmd.args(args).stdin(Stdio::null()).current_dir(dir);
    for name in CERTFLEET_VARS {
        cmd.env_remove(name);
    }
    cmd.env("CERTFLEET_CONTEXT_DIR", NO_CONTEXT);
    cmd.envs(vars.iter().copied())
        .output()
        .expect("failed to start the certfleet binary")
}

/// The command's exit status, stdout and stderr, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Panics, showing stdout and stderr, unless the command exited with status 0.
pub fn assert_ok(out: &Output) {
    assert_exit(out, 0);
}

/// Panics, showing stdout and stderr, unless the command exited with `code`.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit status {code}\n{}",
        describe(out)
    );
}

/// The command's stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command's stdout parsed as one JSON document (for `--json` commands).
pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{}", describe(out)))
}

/// A path as `&str`, for building argument lists.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// A scratch directory, deleted when dropped.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    /// Creates an empty directory under the system's temporary directory.
    pub fn new() -> Self {
        Self(
            tempfile::Builder::new()
                .prefix("certfleet-e2e-")
                .tempdir()
                .expect("failed to create a temporary directory"),
        )
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}
