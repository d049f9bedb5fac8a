//! Passwords and tokens given on the command line, taken the way openssl takes them: a
//! bare value, `pass:VALUE`, `env:NAME`, `file:PATH` (its first line), `-` (one line of
//! standard input, for one option at most), or asked for without echo: when the option is
//! given without a value, or when a needed one is left out while standard input is a
//! terminal.
//!
//! [`SecretArg::parse`] does no I/O and only records where the secret comes from (the
//! command line's value parser calls it). [`SecretArg::expose`] reads it once into a
//! zeroizing string; its errors name the option and the source (`--password env:FOO:
//! variable FOO is not set`), never the secret.

use crate::error::{Result, SecretError};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// The value clap gives an option written without one (`--password` alone): ask for it.
/// No command-line argument can hold a NUL, so no real secret is taken for it.
pub const ASK: &str = "\u{0}ask";
/// The default value of a needed secret left out: ask when standard input is a terminal,
/// else fail naming the option.
pub const MISSING: &str = "\u{0}missing";

/// Set once an option has read its secret from standard input.
static STDIN_TAKEN: AtomicBool = AtomicBool::new(false);

/// Where a secret comes from.
#[derive(Clone)]
enum Source {
    /// Given on the command line (bare or `pass:`).
    Value(Zeroizing<String>),
    /// `env:NAME`.
    Env(String),
    /// `file:PATH`.
    File(PathBuf),
    /// `-`.
    Stdin,
    /// Asked for on the terminal.
    Ask,
    /// Not given: ask on a terminal, else an error.
    Missing,
}

/// A password or token option, read on first use and kept zeroized.
#[derive(Clone)]
pub struct SecretArg {
    /// `--password`, or `<VALUE>` for a positional argument.
    option: String,
    source: Source,
    value: OnceLock<Zeroizing<String>>,
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretArg({})", self.describe())
    }
}

impl SecretArg {
    /// A secret for `option` that was not given: asked for on a terminal.
    pub fn missing(option: &str) -> SecretArg {
        SecretArg::new(option, Source::Missing)
    }

    fn new(option: &str, source: Source) -> SecretArg {
        SecretArg {
            option: option.to_owned(),
            source,
            value: OnceLock::new(),
        }
    }

    /// Reads `text` as written after `option` (`--password`, or `<VALUE>` for a
    /// positional argument).
    pub fn parse(option: &str, text: &str) -> SecretArg {
        let source = if text == ASK {
            Source::Ask
        } else if text == MISSING {
            Source::Missing
        } else if text == "-" {
            Source::Stdin
        } else if let Some(value) = text.strip_prefix("pass:") {
            Source::Value(Zeroizing::new(value.to_owned()))
        } else if let Some(name) = text.strip_prefix("env:") {
            Source::Env(name.to_owned())
        } else if let Some(path) = text.strip_prefix("file:") {
            Source::File(PathBuf::from(path))
        } else {
            Source::Value(Zeroizing::new(text.to_owned()))
        };
        SecretArg::new(option, source)
    }

    /// The option and where its secret comes from, for messages: never the secret.
    pub fn describe(&self) -> String {
        let option = &self.option;
        match &self.source {
            Source::Value(_) | Source::Ask | Source::Missing => option.clone(),
            Source::Env(name) => format!("{option} env:{name}"),
            Source::File(path) => format!("{option} file:{}", path.display()),
            Source::Stdin => format!("{option} -"),
        }
    }

    /// The secret, read from its source on the first call.
    pub fn expose(&self) -> Result<&str> {
        if let Some(value) = self.value.get() {
            return Ok(value.as_str());
        }
        let read = self.read()?;
        Ok(self.value.get_or_init(|| read).as_str())
    }

    fn read(&self) -> Result<Zeroizing<String>> {
        let failed = |why: String| SecretError::Secret(format!("{}: {why}", self.describe()));
        match &self.source {
            Source::Value(value) => Ok(value.clone()),
            Source::Env(name) => match std::env::var(name) {
                Ok(value) => Ok(Zeroizing::new(value)),
                Err(std::env::VarError::NotPresent) => {
                    Err(failed(format!("variable {name} is not set")))
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(failed(format!("variable {name} is not valid UTF-8")))
                }
            },
            Source::File(path) => {
                let bytes = Zeroizing::new(
                    std::fs::read(path).map_err(|err| failed(format!("cannot read: {err}")))?,
                );
                let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let text = std::str::from_utf8(line)
                    .map_err(|_| failed("the first line is not UTF-8 text".into()))?;
                Ok(Zeroizing::new(text.to_owned()))
            }
            Source::Stdin => {
                if STDIN_TAKEN.swap(true, Ordering::SeqCst) {
                    return Err(failed(
                        "standard input is already read for another option; give this one another way (env:NAME, file:PATH)".into(),
                    ));
                }
                let mut line = Zeroizing::new(String::new());
                let read = std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|err| failed(format!("cannot read standard input: {err}")))?;
                if read == 0 {
                    return Err(failed("standard input is empty".into()));
                }
                let trimmed = line.trim_end_matches(['\r', '\n']);
                Ok(Zeroizing::new(trimmed.to_owned()))
            }
            Source::Ask => self.ask(),
            Source::Missing => {
                if std::io::stdin().is_terminal() {
                    self.ask()
                } else {
                    Err(SecretError::Secret(format!(
                        "{} is needed: give it as VALUE, pass:VALUE, env:NAME, file:PATH or - (standard input), or run in a terminal to be asked",
                        self.option
                    )))
                }
            }
        }
    }

    /// Asks on the terminal without echo; a new password is asked twice.
    fn ask(&self) -> Result<Zeroizing<String>> {
        let option = &self.option;
        let ask = |prompt: String| {
            rpassword::prompt_password(prompt)
                .map(Zeroizing::new)
                .map_err(|err| {
                    SecretError::Secret(format!("{option}: cannot ask on the terminal: {err}"))
                })
        };
        let first = ask(format!("{option}: "))?;
        if option.starts_with("--new-") {
            let again = ask(format!("{option} (again): "))?;
            if *again != *first {
                return Err(SecretError::Secret(format!(
                    "{option}: the two entries differ"
                )));
            }
        }
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_is_read_and_described_without_the_secret() {
        assert_eq!(
            SecretArg::parse("--password", "s3cret").expose().unwrap(),
            "s3cret"
        );
        assert_eq!(
            SecretArg::parse("--password", "pass:env:X")
                .expose()
                .unwrap(),
            "env:X"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "first line\r\nsecond\n").unwrap();
        let from_file = SecretArg::parse("--password", &format!("file:{}", file.display()));
        assert_eq!(from_file.expose().unwrap(), "first line");

        let unset = SecretArg::parse("--password", "env:CERTFLEET_TEST_SURELY_UNSET");
        assert_eq!(
            unset.expose().unwrap_err().to_string(),
            "--password env:CERTFLEET_TEST_SURELY_UNSET: variable CERTFLEET_TEST_SURELY_UNSET is not set"
        );
        let missing = SecretArg::parse(
            "--key-password",
            &format!("file:{}/nope", dir.path().display()),
        );
        assert!(missing
            .expose()
            .unwrap_err()
            .to_string()
            .starts_with(&format!(
                "--key-password file:{}/nope: cannot read",
                dir.path().display()
            )));
        assert_eq!(
            format!("{:?}", SecretArg::parse("--password", "s3cret")),
            "SecretArg(--password)"
        );
    }
}
