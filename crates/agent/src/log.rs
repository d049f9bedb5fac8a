//! The agent's log: lines on standard error (time, level, message and fields), filtered
//! by `CERTFLEET_LOG` like the server's (`info` when unset). No key, password or token
//! is ever logged.

/// The environment variable with the log filter, in tracing-subscriber's syntax.
pub const LOG_ENV: &str = "CERTFLEET_LOG";

/// Sends log lines to standard error. A second call keeps the first subscriber.
pub fn init() {
    use std::io::IsTerminal;
    let (filter, refused) = match tracing_subscriber::EnvFilter::try_from_env(LOG_ENV) {
        Ok(filter) => (filter, None),
        Err(err) => {
            let refused = std::env::var_os(LOG_ENV).map(|_| err.to_string());
            (tracing_subscriber::EnvFilter::new("info"), refused)
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    if let Some(err) = refused {
        tracing::warn!("{LOG_ENV}: not a log filter ({err}); logging at info");
    }
}
