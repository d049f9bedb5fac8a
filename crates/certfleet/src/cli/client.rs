//! The HTTP client of the admin API for the commands that talk to a running server.
//!
//! `--server URL` (default `https://127.0.0.1:9443`), the bearer token from `--token` or
//! `DATA_DIR/admin.token`, and trust pinned to the certificate in `DATA_DIR/default.pem`:
//! the admin listener must present exactly that certificate (no other trust store is
//! consulted). One request per connection over HTTP/1.1.

use super::secret_arg::{SecretArg, SecretParser, ASK};
use anyhow::{anyhow, bail, Context, Result};
use certfleet_pki::tls_verifier::HandshakeOnlyVerifier;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// How long one request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The flags every client command shares.
#[derive(Debug, Clone, Args)]
pub struct ServerFlags {
    /// The admin listener's URL.
    #[arg(long, value_name = "URL", default_value = "https://127.0.0.1:9443")]
    pub server: String,
    /// The server's data directory: the admin token and the certificate to trust.
    #[arg(long, value_name = "DIR", default_value = "./certfleet-data")]
    pub data_dir: PathBuf,
    /// The admin token (instead of DATA_DIR/admin.token): VALUE, pass:VALUE, env:NAME,
    /// file:PATH or - (a line of standard input); asked for when given without a value.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK)]
    pub token: Option<SecretArg>,
}

/// An answer of the admin API.
#[derive(Debug)]
pub struct ApiResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body (`Null` when empty or not JSON).
    pub body: Value,
}

impl ApiResponse {
    /// The server's error message, when the body is `{"error": ...}`, with the error id
    /// of an internal error (which finds the details in the server's log).
    pub fn error_message(&self) -> String {
        let id = self.body.get("error_id").and_then(Value::as_str);
        match (self.body.get("error").and_then(Value::as_str), id) {
            (Some(message), Some(id)) => {
                format!("{message} (error id {id}; the details are in the server's log)")
            }
            (Some(message), None) => message.to_owned(),
            (None, _) => format!("HTTP status {}", self.status),
        }
    }

    /// The body of a 2xx answer; the server's message as an error otherwise.
    pub fn into_success(self) -> Result<Value> {
        if (200..300).contains(&self.status) {
            Ok(self.body)
        } else {
            bail!("the server refused: {}", self.error_message())
        }
    }
}

/// A client for one admin server.
pub struct AdminClient {
    host: String,
    port: u16,
    server: String,
    token: Zeroizing<String>,
    tls: Arc<rustls::ClientConfig>,
}

impl AdminClient {
    /// A client from the common flags: reads the token and the pinned certificate.
    pub fn new(flags: &ServerFlags) -> Result<Self> {
        let uri: Uri = flags
            .server
            .parse()
            .with_context(|| format!("--server: '{}' is not a URL", flags.server))?;
        if uri.scheme_str() != Some("https") {
            bail!("--server: '{}' must be an https:// URL", flags.server);
        }
        let host = uri
            .host()
            .ok_or_else(|| anyhow!("--server: '{}' names no host", flags.server))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(443);

        let token = match &flags.token {
            Some(token) => Zeroizing::new(token.expose()?.trim().to_owned()),
            None => {
                let path = flags.data_dir.join("admin.token");
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!(
                        "{}: cannot read the admin token (give --token or --data-dir)",
                        path.display()
                    )
                })?;
                Zeroizing::new(text.trim().to_owned())
            }
        };
        if token.is_empty() {
            bail!("the admin token is empty (give --token or --data-dir)");
        }

        let pinned_path = flags.data_dir.join("default.pem");
        let pinned_pem = std::fs::read(&pinned_path).with_context(|| {
            format!(
                "{}: cannot read the certificate of the admin listener (give --data-dir)",
                pinned_path.display()
            )
        })?;
        let pinned: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pinned_pem)
            .collect::<std::result::Result<_, _>>()
            .map_err(|err| anyhow!("{}: {err}", pinned_path.display()))?;
        if pinned.is_empty() {
            bail!("{}: holds no certificate", pinned_path.display());
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(HandshakeOnlyVerifier::pinned(
            pinned,
            "the server's certificate is not the one in DATA_DIR/default.pem",
            Arc::clone(&provider),
        ));
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS client configuration")?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(AdminClient {
            host,
            port,
            server: flags.server.trim_end_matches('/').to_owned(),
            token,
            tls: Arc::new(tls),
        })
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<ApiResponse> {
        self.send(Method::GET, path, None)
    }

    /// Sends one request and reads the JSON answer.
    pub fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Result<ApiResponse> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let future = self.send_async(method, path, body);
        runtime
            .block_on(async { tokio::time::timeout(REQUEST_TIMEOUT, future).await })
            .map_err(|_| {
                anyhow!(
                    "{}: no answer within {}s",
                    self.server,
                    REQUEST_TIMEOUT.as_secs()
                )
            })?
    }

    async fn send_async(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<ApiResponse> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .with_context(|| {
                format!("cannot connect to {} (is the server running?)", self.server)
            })?;
        let name = ServerName::try_from(self.host.clone())
            .map_err(|_| anyhow!("--server: '{}' is not a host name", self.host))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls));
        let tls = connector
            .connect(name, tcp)
            .await
            .with_context(|| format!("TLS with {}", self.server))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .with_context(|| format!("HTTP with {}", self.server))?;
        let driver = tokio::spawn(async move {
            // The connection ends with the request; its error shows in the response.
            let _ = connection.await;
        });
        let payload = match body {
            Some(value) => Bytes::from(serde_json::to_vec(value)?),
            None => Bytes::new(),
        };
        let authority = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, authority)
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", self.token.as_str()),
            )
            .header(hyper::header::ACCEPT, "application/json");
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(payload))
            .context("building the request")?;
        let response = sender
            .send_request(request)
            .await
            .with_context(|| format!("request to {}", self.server))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .with_context(|| format!("reading the answer of {}", self.server))?
            .to_bytes();
        driver.abort();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(ApiResponse { status, body })
    }
}

/// Percent-encodes one path segment (domain names need none, but input is input).
pub fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
