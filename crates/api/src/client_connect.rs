//! Where a client command connects, and with what. Each of the server's URL, its data
//! directory and the admin token comes from what the command was given (a flag or its
//! environment variable), else from the saved context ([`crate::client_context`]), else
//! from its default; the token then falls back on `DATA_DIR/admin.token`. Trust is pinned
//! to the certificate the context saved, else to `DATA_DIR/default.pem`.

use crate::client::AdminClient;
use crate::client_context::{context_dir, ClientContext};
use anyhow::{anyhow, bail, Context, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The environment variable that stands for `--server`.
pub const SERVER_ENV: &str = "CERTFLEET_SERVER";
/// The environment variable that stands for `--data-dir`, on the client commands and on
/// the commands that read the master key.
pub const DATA_DIR_ENV: &str = "CERTFLEET_DATA_DIR";
/// The environment variable that stands for `--token`.
pub const TOKEN_ENV: &str = "CERTFLEET_TOKEN";

/// The server's URL when nothing names one.
pub const DEFAULT_SERVER: &str = "https://127.0.0.1:9443";
/// The server's data directory when nothing names one.
pub const DEFAULT_DATA_DIR: &str = "./certfleet-data";

/// A client for the server `server` names (else the saved context's, else the default),
/// with the token `given_token` gives (it is asked only after the saved context was
/// read), else the saved context's, else `DATA_DIR/admin.token`.
pub fn connect(
    server: Option<&str>,
    data_dir: Option<&Path>,
    given_token: impl FnOnce() -> Result<Option<Zeroizing<String>>>,
) -> Result<AdminClient> {
    // A data directory given explicitly is the whole answer for the token and the pin.
    let saved = match (data_dir, context_dir()) {
        (None, Some(dir)) => ClientContext::load(&dir)?,
        _ => None,
    };
    let data_dir = data_dir.map(Path::to_path_buf).unwrap_or_else(|| {
        saved
            .as_ref()
            .and_then(|c| c.saved.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    });
    let server = server
        .map(str::to_owned)
        .or_else(|| saved.as_ref().map(|c| c.saved.server.clone()))
        .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
    let saved_token = saved
        .as_ref()
        .map(ClientContext::token)
        .transpose()?
        .flatten();
    let token = match (given_token()?, saved_token) {
        (Some(token), _) => token,
        (None, Some(token)) => token,
        (None, None) => read_token_file(&data_dir.join("admin.token"))?,
    };
    if token.is_empty() {
        bail!("the admin token is empty (give --token or --data-dir)");
    }
    let pinned_path = match &saved {
        Some(context) => context.pinned_file(),
        None => data_dir.join("default.pem"),
    };
    let pinned = read_pinned(&pinned_path)?;
    AdminClient::connect(&server, token, pinned)
}

/// The token of `DATA_DIR/admin.token`, trimmed.
fn read_token_file(path: &Path) -> Result<Zeroizing<String>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "{}: cannot read the admin token (give --token or --data-dir, set {TOKEN_ENV} or {DATA_DIR_ENV}, or save a context with `certfleet context save`)",
            path.display()
        )
    })?;
    Ok(Zeroizing::new(text.trim().to_owned()))
}

/// The certificates of the admin listener's pinned PEM file.
pub fn read_pinned(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).with_context(|| {
        format!(
            "{}: cannot read the certificate of the admin listener (give --data-dir)",
            path.display()
        )
    })?;
    let pinned: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|err| anyhow!("{}: {err}", path.display()))?;
    if pinned.is_empty() {
        bail!("{}: holds no certificate", path.display());
    }
    Ok(pinned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_token_file_names_it_and_the_ways_to_give_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_token_file(&dir.path().join("admin.token")).unwrap_err();
        let text = format!("{err}");
        assert!(
            text.contains("admin.token: cannot read the admin token"),
            "{text}"
        );
        assert!(text.contains(TOKEN_ENV), "{text}");
    }

    #[test]
    fn a_pinned_file_without_certificates_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("default.pem");
        std::fs::write(&path, "nothing here\n").unwrap();
        let err = read_pinned(&path).unwrap_err().to_string();
        assert!(err.ends_with("default.pem: holds no certificate"), "{err}");
    }
}
