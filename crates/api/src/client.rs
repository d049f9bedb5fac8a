//! The admin API's client: one HTTPS request per connection (HTTP/1.1) to a running
//! server, authenticated with the admin token, trusting exactly the pinned certificate
//! of the admin listener (no other trust store is consulted). Answers decode into the
//! types of [`crate::admin`]. Built with the `client` feature.

use anyhow::{anyhow, bail, Context, Result};
use certfleet_pki::tls_verifier::HandshakeOnlyVerifier;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// How long one request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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

    /// The body of a 2xx answer as the API type `T`; the server's message as an error
    /// otherwise. Also returns the JSON as received, for `--json`.
    pub fn decode<T: serde::de::DeserializeOwned>(self) -> Result<(T, Value)> {
        let body = self.into_success()?;
        let typed =
            T::deserialize(&body).context("the server's answer is not what this client expects")?;
        Ok((typed, body))
    }

    /// The body of a 2xx answer; otherwise a [`ClientError`] whose kind tells "not
    /// allowed" (401, 403), "not found" (404) and the server's own failure (5xx) from a
    /// refused request.
    pub fn into_success(self) -> Result<Value> {
        if (200..300).contains(&self.status) {
            return Ok(self.body);
        }
        let message = self.error_message();
        let (kind, text) = match self.status {
            401 => (
                FailureKind::NotAllowed,
                format!("not allowed: the server refused the admin token ({message}); check --token, CERTFLEET_TOKEN or DATA_DIR/admin.token"),
            ),
            403 => (
                FailureKind::NotAllowed,
                format!("not allowed: {message} (HTTP 403)"),
            ),
            404 => (FailureKind::NotFound, format!("not found: {message}")),
            500..=599 => (
                FailureKind::ServerError,
                format!("the server failed: {message}"),
            ),
            _ => (FailureKind::Refused, format!("the server refused: {message}")),
        };
        Err(ClientError::new(kind, text).into())
    }
}

/// What kind of failure a request to the server met: whether the server was reached at
/// all, whether it let the caller in, or whether it judged the request itself. The
/// command line names it in `--json` error documents (`kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// No connection, no TLS, or no answer in time.
    Unreachable,
    /// A server answered, but not with the certificate the client pins.
    Untrusted,
    /// The token was refused (401) or does not allow this (403).
    NotAllowed,
    /// What the request names does not exist (404).
    NotFound,
    /// The request was refused as bad input or a conflict (other 4xx).
    Refused,
    /// The server failed (5xx).
    ServerError,
}

/// A failed request to the admin API: its kind and the whole message.
#[derive(Debug, Clone)]
pub struct ClientError {
    /// Which kind of failure.
    pub kind: FailureKind,
    /// The message, naming the server and what to check.
    pub message: String,
}

impl ClientError {
    fn new(kind: FailureKind, message: String) -> Self {
        ClientError { kind, message }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ClientError {}

/// A client for one admin server.
pub struct AdminClient {
    host: String,
    port: u16,
    server: String,
    token: Zeroizing<String>,
    tls: Arc<rustls::ClientConfig>,
}

impl AdminClient {
    /// A client for the admin listener at `server` (an `https://` URL), sending `token`
    /// and accepting only a listener that presents one of `pinned`. Errors name
    /// `--server` when the URL is wrong.
    pub fn connect(
        server: &str,
        token: Zeroizing<String>,
        pinned: Vec<CertificateDer<'static>>,
    ) -> Result<Self> {
        let uri: Uri = server
            .parse()
            .with_context(|| format!("--server: '{server}' is not a URL"))?;
        if uri.scheme_str() != Some("https") {
            bail!("--server: '{server}' must be an https:// URL");
        }
        let host = uri
            .host()
            .ok_or_else(|| anyhow!("--server: '{server}' names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(443);
        if token.is_empty() {
            bail!("the admin token is empty (give --token or --data-dir)");
        }
        if pinned.is_empty() {
            bail!("no certificate to trust for the admin listener");
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
            server: server.trim_end_matches('/').to_owned(),
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
                ClientError::new(
                    FailureKind::Unreachable,
                    format!(
                        "cannot reach the server at {}: no answer within {}s",
                        self.server,
                        REQUEST_TIMEOUT.as_secs()
                    ),
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
            .map_err(|err| {
                ClientError::new(
                    FailureKind::Unreachable,
                    format!(
                        "cannot reach the server at {}: {err} (is it running, and is --server or CERTFLEET_SERVER right?)",
                        self.server
                    ),
                )
            })?;
        let name = ServerName::try_from(self.host.clone())
            .map_err(|_| anyhow!("--server: '{}' is not a host name", self.host))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls));
        let tls = connector.connect(name, tcp).await.map_err(|err| {
            // A certificate the pin refuses is another server; anything else is a
            // handshake that did not happen.
            let refused_certificate = err
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(|tls| {
                    matches!(
                        tls,
                        rustls::Error::InvalidCertificate(_) | rustls::Error::General(_)
                    )
                });
            if refused_certificate {
                ClientError::new(
                    FailureKind::Untrusted,
                    format!(
                        "the server at {} is not the one this client trusts: {err} (give the --data-dir of that server)",
                        self.server
                    ),
                )
            } else {
                ClientError::new(
                    FailureKind::Unreachable,
                    format!("cannot reach the server at {}: TLS failed: {err}", self.server),
                )
            }
        })?;
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
