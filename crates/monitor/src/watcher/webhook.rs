//! Posting expiry events to `[monitor] webhook`: a JSON POST over `http://` or
//! `https://` (the system roots), each attempt bounded in time, retried with growing
//! delays on a task of its own so that nothing else waits for a slow receiver.
//!
//! Any 2xx answer is a delivery. Each failed attempt is logged; the last one is raised
//! on the alert board (`webhook_failed`). Messages name the receiver by scheme, host and
//! port only: a webhook's path or query often holds the receiver's secret.

use super::MonitorShared;
use crate::alerts::{AlertBoard, AlertKind};
use crate::error::{MonitorError, Result};
use crate::event::ExpiryEvent;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, USER_AGENT};
use hyper::{Method, Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How long connecting to the receiver may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one attempt (connect, send, answer) may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The waits between attempts: six attempts over about a minute.
pub const RETRY_DELAYS: [Duration; 5] = [
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
    Duration::from_secs(32),
];

/// The webhook receiver and the client that reaches it.
pub struct Webhook {
    uri: Uri,
    /// `scheme://host:port`, for messages.
    target: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Webhook {
    /// A client for `url` (checked by the configuration: `http://` or `https://`)
    /// trusting the system roots.
    pub fn new(url: &str) -> Result<Self> {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        Self::with_roots(url, roots)
    }

    /// A client for `url` trusting `roots`.
    fn with_roots(url: &str, roots: RootCertStore) -> Result<Self> {
        let uri: Uri = url
            .parse()
            .map_err(|_| MonitorError::Webhook("[monitor] webhook: not a URL".into()))?;
        let target = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or("http"),
            uri.authority().map_or("", |a| a.as_str())
        );
        if roots.is_empty() && uri.scheme_str() == Some("https") {
            tracing::warn!(
                "[monitor] webhook {target}: no system root certificates found (install ca-certificates); posts to it will fail"
            );
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| {
                MonitorError::Webhook(format!("TLS versions for the webhook client: {err}"))
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Webhook {
            uri,
            target,
            client,
        })
    }

    /// The receiver as messages name it: `scheme://host:port`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// One attempt to post `body` (JSON); `Err` says why it did not count as delivered.
    pub async fn post(&self, body: &str) -> std::result::Result<(), String> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("certfleet/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|err| format!("building the request: {err}"))?;
        let answer = tokio::time::timeout(ATTEMPT_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()))?
            .map_err(|err| error_chain(&err))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("answered HTTP {status}"))
        }
    }
}

/// An error with its sources, `: `-separated.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Posts `event`, retrying after each of `delays`; counts the outcome in `shared` and
/// raises the final failure on `alerts`.
pub async fn deliver(
    webhook: Arc<Webhook>,
    event: ExpiryEvent,
    delays: &'static [Duration],
    shared: Arc<MonitorShared>,
    alerts: Arc<AlertBoard>,
) {
    let body = event.to_json();
    let attempts = delays.len() + 1;
    let mut waits = delays.iter();
    for attempt in 1.. {
        let error = match webhook.post(&body).await {
            Ok(()) => {
                shared.webhook_delivered.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(error) => error,
        };
        let about = format!(
            "the {} event of {} [SHA-1 {}] to the webhook {}",
            event.state.as_str(),
            event.subject,
            event.sha1_thumbprint,
            webhook.target()
        );
        match waits.next() {
            Some(wait) => {
                tracing::warn!(
                    "monitor: posting {about} failed (attempt {attempt} of {attempts}): {error}; retrying in {} s",
                    wait.as_secs_f32()
                );
                tokio::time::sleep(*wait).await;
            }
            None => {
                shared.webhook_failed.fetch_add(1, Ordering::Relaxed);
                alerts.raise(
                    AlertKind::WebhookFailed,
                    event.domain.as_deref(),
                    format!("posting {about} failed {attempts} times; the last error: {error}"),
                    1,
                );
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::expiry::ExpiryState;
    use crate::inventory::{ChainRole, InventoryEntry};
    use crate::watch::Transition;
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn event() -> ExpiryEvent {
        let entry = InventoryEntry {
            subject: "CN=soon.example.test".into(),
            issuer: "CN=Test Issuing".into(),
            domain: Some("soon.example.test".into()),
            used_by: "domain soon.example.test".into(),
            role: ChainRole::Leaf,
            sha1_thumbprint: "AB".repeat(20),
            not_after: "2030-01-01T00:00:00Z".into(),
            not_after_unix: 1_893_456_000,
            days_remaining: 9,
            state: ExpiryState::Warning,
            detail: Default::default(),
        };
        ExpiryEvent::from_transition(&Transition {
            entry: &entry,
            previous: None,
        })
    }

    /// Reads one request from `socket`, answers `status` and gives the body.
    async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut socket: S, status: u16) -> String {
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        let body = loop {
            let read = socket.read(&mut buffer).await.unwrap();
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    assert!(head.starts_with("POST /hook?token=s3cret "), "{head}");
                    assert!(head.contains("application/json"), "{head}");
                    break body.to_owned();
                }
            }
            assert!(read > 0, "the client hung up");
        };
        let answer =
            format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        socket.write_all(answer.as_bytes()).await.unwrap();
        let _ = socket.shutdown().await;
        body
    }

    /// A plain-HTTP receiver answering `statuses` in turn (one connection each); gives
    /// the bodies.
    async fn receiver(statuses: Vec<u16>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/hook?token=s3cret",
            listener.local_addr().unwrap()
        );
        let task = tokio::spawn(async move {
            let mut bodies = Vec::new();
            for status in statuses {
                let (socket, _) = listener.accept().await.unwrap();
                bodies.push(answer(socket, status).await);
            }
            bodies
        });
        (url, task)
    }

    #[tokio::test]
    async fn failed_posts_are_retried_then_counted() {
        const SHORT: [Duration; 2] = [Duration::from_millis(10), Duration::from_millis(10)];
        let (url, task) = receiver(vec![500, 503, 204]).await;
        let webhook = Arc::new(Webhook::new(&url).unwrap());
        assert!(!webhook.target().contains("s3cret"));
        let shared = Arc::new(MonitorShared::default());
        let alerts = Arc::new(AlertBoard::default());
        deliver(
            Arc::clone(&webhook),
            event(),
            &SHORT,
            Arc::clone(&shared),
            Arc::clone(&alerts),
        )
        .await;
        let bodies = task.await.unwrap();
        assert_eq!(bodies.len(), 3);
        let json: serde_json::Value = serde_json::from_str(&bodies[2]).unwrap();
        assert_eq!(json["event"], "certificate_expiry");
        assert_eq!(json["state"], "warning");
        assert_eq!(shared.webhook_delivered.load(Ordering::Relaxed), 1);
        assert!(alerts.recent().is_empty());

        // A receiver that keeps failing: given up after the retries, raised as an alert.
        let (url, task) = receiver(vec![500, 500, 500]).await;
        let webhook = Arc::new(Webhook::new(&url).unwrap());
        deliver(
            webhook,
            event(),
            &SHORT,
            Arc::clone(&shared),
            Arc::clone(&alerts),
        )
        .await;
        task.await.unwrap();
        assert_eq!(shared.webhook_failed.load(Ordering::Relaxed), 1);
        let recent = alerts.recent();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].kind, AlertKind::WebhookFailed);
        assert!(recent[0].message.contains("500"), "{}", recent[0].message);
        assert!(
            !recent[0].message.contains("s3cret"),
            "{}",
            recent[0].message
        );
    }

    #[tokio::test]
    async fn https_receivers_are_verified_against_the_roots() {
        use certfleet_testkit::{server_leaf, TestCa};
        use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

        let ca = TestCa::root_valid_for("Hook Root", 30);
        let leaf = ca.issue(&server_leaf("localhost"));
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.pkcs8_der().to_vec()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.cert.clone()], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut bodies = Vec::new();
            // The client that does not trust the root fails its handshake; the other posts.
            for _ in 0..2 {
                let (socket, _) = listener.accept().await.unwrap();
                if let Ok(tls) = acceptor.accept(socket).await {
                    bodies.push(answer(tls, 204).await);
                }
            }
            bodies
        });
        let url = format!("https://localhost:{port}/hook?token=s3cret");

        let untrusting = Webhook::with_roots(&url, RootCertStore::empty()).unwrap();
        let refused = untrusting.post("{}").await.unwrap_err();
        assert!(!refused.contains("s3cret"), "{refused}");
        let mut roots = RootCertStore::empty();
        roots.add(ca.root_cert().clone()).unwrap();
        let trusting = Webhook::with_roots(&url, roots).unwrap();
        assert_eq!(trusting.target(), format!("https://localhost:{port}"));
        trusting.post(&event().to_json()).await.unwrap();
        let bodies = task.await.unwrap();
        assert_eq!(bodies.len(), 1);
        assert!(bodies[0].contains("certificate_expiry"), "{}", bodies[0]);
    }
}
