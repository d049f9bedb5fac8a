//! The log of the long-running commands (`serve` and `agent ...`): lines on standard
//! error, filtered by `CERTFLEET_LOG` ([`LOG_ENV`], `info` when unset) and written as
//! text or as one JSON object a line, as `CERTFLEET_LOG_FORMAT` ([`LOG_FORMAT_ENV`])
//! asks. No key, password or token is ever logged, in either format.

use anyhow::{bail, Result};
use std::env::VarError;
use std::io::IsTerminal;

/// The environment variable with the log filter, in tracing-subscriber's `EnvFilter`
/// syntax, e.g. `debug` or `info,certfleet=debug`.
pub const LOG_ENV: &str = "CERTFLEET_LOG";

/// The environment variable that chooses the lines' format: `text` (the default) or
/// `json`.
pub const LOG_FORMAT_ENV: &str = "CERTFLEET_LOG_FORMAT";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Time, level and message for people (colours only on a terminal).
    Text,
    /// One JSON object a line (`timestamp`, `level`, `message` and the event's fields),
    /// for log collectors.
    Json,
}

impl LogFormat {
    /// The format [`LOG_FORMAT_ENV`] names; [`LogFormat::Text`] when it is unset, and
    /// refused, naming the variable, when it holds anything else than `text` or `json`.
    pub fn from_env() -> Result<Self> {
        match std::env::var(LOG_FORMAT_ENV) {
            Err(VarError::NotPresent) => Ok(LogFormat::Text),
            Ok(value) => match value.as_str() {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                other => bail!("{LOG_FORMAT_ENV}: '{other}' is not a log format (text or json)"),
            },
            Err(VarError::NotUnicode(_)) => {
                bail!("{LOG_FORMAT_ENV}: not a log format (text or json)")
            }
        }
    }
}

/// Sends log lines to standard error in the format [`LOG_FORMAT_ENV`] asks for. Fails,
/// before anything is logged, when that variable is not a format; an invalid
/// [`LOG_ENV`] filter is only warned about (logging then goes on at `info`).
pub fn init() -> Result<()> {
    let format = LogFormat::from_env()?;
    let (filter, refused) = match tracing_subscriber::EnvFilter::try_from_env(LOG_ENV) {
        Ok(filter) => (filter, None),
        Err(err) => {
            let refused = std::env::var_os(LOG_ENV).map(|_| err.to_string());
            (tracing_subscriber::EnvFilter::new("info"), refused)
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A second call (never made by the binary) would find a subscriber set; keep it.
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_ansi(false)
            .try_init(),
    };
    if let Some(err) = refused {
        tracing::warn!("{LOG_ENV}: not a log filter ({err}); logging at info");
    }
    Ok(())
}
