//! The command line's value parser of password and token options: it records where each
//! secret comes from as a [`SecretArg`] (certfleet-secrets reads it on first use).

pub use certfleet_secrets::arg::{SecretArg, ASK, MISSING};
use std::ffi::OsStr;

/// The clap value parser of password and token options.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecretParser;

impl clap::builder::TypedValueParser for SecretParser {
    type Value = SecretArg;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> std::result::Result<SecretArg, clap::Error> {
        let option = match arg {
            Some(arg) => match arg.get_long() {
                Some(long) => format!("--{long}"),
                None => format!("<{}>", arg.get_id().as_str().to_ascii_uppercase()),
            },
            None => "the secret".to_owned(),
        };
        // Not `value.to_string_lossy()` in the message: that would print the secret.
        let text = value.to_str().ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                format!("{option}: the value is not valid UTF-8\n"),
            )
        })?;
        Ok(SecretArg::parse(&option, text))
    }
}
