//! One JSON request over HTTPS to the first of the servers that answers: a server that
//! cannot be reached, or answers a server error (5xx), makes the agent try the next; a
//! refusal (4xx) is the answer. One request per connection, HTTP/1.1, each with a time
//! limit.

use crate::error::{AgentError, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The time limit of a plain request, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One server's agent listener.
#[derive(Debug, Clone)]
struct Server {
    url: String,
    host: String,
    port: u16,
}

impl Server {
    fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| AgentError::Unreachable {
            server: url.to_owned(),
            message: why.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("not an https:// URL"));
        }
        let host = uri
            .host()
            .ok_or_else(|| bad("the URL names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Ok(Server {
            url: url.trim_end_matches('/').to_owned(),
            host,
            port: uri.port_u16().unwrap_or(443),
        })
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The servers, the TLS settings to reach them with, and a runtime to wait on.
pub struct Transport {
    servers: Vec<Server>,
    tls: Arc<rustls::ClientConfig>,
    runtime: tokio::runtime::Runtime,
}

impl Transport {
    /// A transport to `servers` (tried in order) with `tls`.
    pub fn new(servers: &[String], tls: Arc<rustls::ClientConfig>) -> Result<Self> {
        if servers.is_empty() {
            return Err(AgentError::NotEnrolled("no server URL is known".into()));
        }
        let servers = servers
            .iter()
            .map(|s| Server::parse(s))
            .collect::<Result<Vec<_>>>()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AgentError::Unreachable {
                server: servers[0].url.clone(),
                message: format!("cannot start the async runtime: {e}"),
            })?;
        Ok(Transport {
            servers,
            tls,
            runtime,
        })
    }

    /// New TLS settings (after an identity renewal).
    pub fn set_tls(&mut self, tls: Arc<rustls::ClientConfig>) {
        self.tls = tls;
    }

    /// Sends `body` as JSON and reads a JSON answer.
    pub fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<T> {
        let (server, bytes) = self.send(method, path, body, timeout)?;
        serde_json::from_slice(&bytes).map_err(|e| AgentError::Unreachable {
            server,
            message: format!("the answer to {path} is not what the agent expects: {e}"),
        })
    }

    /// Sends `body` as JSON; the answer's body is not read.
    pub fn call_no_answer<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<()> {
        self.send(method, path, body, REQUEST_TIMEOUT).map(|_| ())
    }

    fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<(String, Bytes)> {
        let payload = match body {
            Some(value) => Bytes::from(serde_json::to_vec(value).map_err(|e| {
                AgentError::Crypto(format!("cannot encode the request to {path}: {e}"))
            })?),
            None => Bytes::new(),
        };
        let mut last = None;
        for (index, server) in self.servers.iter().enumerate() {
            let attempt = self.runtime.block_on(async {
                tokio::time::timeout(
                    timeout,
                    request(server, &self.tls, method.clone(), path, payload.clone()),
                )
                .await
            });
            let outcome = match attempt {
                Ok(outcome) => outcome,
                Err(_) => Err(AgentError::Unreachable {
                    server: server.url.clone(),
                    message: format!("no answer within {} s", timeout.as_secs()),
                }),
            };
            match outcome {
                Ok(bytes) => return Ok((server.url.clone(), bytes)),
                Err(e) if e.is_transient() => {
                    if index + 1 < self.servers.len() {
                        tracing::warn!(server = %server.url, error = %e, "trying the next server");
                    }
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| AgentError::NotEnrolled("no server URL is known".into())))
    }
}

/// The server's `error` text, or the status.
fn error_text(status: u16, bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(bytes);
            let text = text.trim();
            if text.is_empty() {
                format!("HTTP status {status}")
            } else {
                text.chars().take(200).collect()
            }
        })
}

async fn request(
    server: &Server,
    tls: &Arc<rustls::ClientConfig>,
    method: Method,
    path: &str,
    payload: Bytes,
) -> Result<Bytes> {
    let unreachable = |message: String| AgentError::Unreachable {
        server: server.url.clone(),
        message,
    };
    let tcp = tokio::net::TcpStream::connect((server.host.as_str(), server.port))
        .await
        .map_err(|e| unreachable(format!("cannot connect: {e}")))?;
    let name = ServerName::try_from(server.host.clone())
        .map_err(|_| unreachable(format!("'{}' is not a host name", server.host)))?;
    let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
        .connect(name, tcp)
        .await
        .map_err(|e| unreachable(format!("TLS: {e}")))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(format!("HTTP: {e}")))?;
    let driver = tokio::spawn(async move {
        // The connection ends with the request; its errors show in the response.
        let _ = connection.await;
    });
    let has_body = !payload.is_empty();
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, server.authority())
        .header(hyper::header::ACCEPT, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("certfleet-agent/", env!("CARGO_PKG_VERSION")),
        );
    if has_body {
        builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    let request = builder
        .body(Full::new(payload))
        .map_err(|e| unreachable(format!("cannot build the request: {e}")))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| unreachable(format!("{path}: {e}")))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| unreachable(format!("reading the answer to {path}: {e}")))?
        .to_bytes();
    driver.abort();
    if (200..300).contains(&status) {
        Ok(bytes)
    } else {
        Err(AgentError::Refused {
            server: server.url.clone(),
            status,
            message: error_text(status, &bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_come_from_the_json_error() {
        assert_eq!(
            error_text(403, br#"{"error":"the token was used already"}"#),
            "the token was used already"
        );
        assert_eq!(error_text(502, b""), "HTTP status 502");
        assert_eq!(error_text(500, b"oops\n"), "oops");
    }

    #[test]
    fn servers_must_be_https() {
        assert!(Server::parse("http://a.test").is_err());
        let s = Server::parse("https://[::1]:8444/").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", 8444));
        assert_eq!(s.authority(), "[::1]:8444");
    }
}
