//! One relay connection to an upstream: plain TCP for an `http://` upstream, TLS over it
//! for an `https://` one, read and written alike; how one is opened, and whether an idle
//! one is still fit to carry a request.
//!
//! A TLS upstream is held to the same client settings as the general path's (the route's
//! `upstream_trust`, no ALPN, the upstream's host as the name checked): the route builds
//! both from one `ClientConfig`, so they also share its session cache.

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// How the connections to an `https://` upstream are secured.
pub struct UpstreamTls {
    connector: TlsConnector,
    /// The name (or address) the upstream's certificate is checked against.
    name: ServerName<'static>,
}

impl UpstreamTls {
    /// TLS with `config` to the upstream `host` (a name, or an IP address with IPv6 in
    /// brackets as in a URL).
    pub fn new(config: Arc<ClientConfig>, host: &str) -> anyhow::Result<UpstreamTls> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(bare.to_owned())
            .map_err(|err| anyhow::anyhow!("upstream host '{host}': {err}"))?;
        Ok(UpstreamTls {
            connector: TlsConnector::from(config),
            name,
        })
    }
}

/// A connection to an upstream.
pub enum Connection {
    /// `http://`.
    Plain(TcpStream),
    /// `https://`.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection {
    /// Connects to `address` (`host:port`), with the TLS handshake when `tls` is given.
    pub async fn open(address: &str, tls: Option<&UpstreamTls>) -> io::Result<Connection> {
        let tcp = TcpStream::connect(address).await?;
        let _ = tcp.set_nodelay(true); // an optimisation only
        match tls {
            None => Ok(Connection::Plain(tcp)),
            Some(tls) => {
                let stream = tls.connector.connect(tls.name.clone(), tcp).await?;
                Ok(Connection::Tls(Box::new(stream)))
            }
        }
    }

    /// Whether this idle connection can carry a request: the event loop has not seen it
    /// become readable, which for an idle connection means a close or bytes nobody asked
    /// for. Over TLS a readable connection is read once through TLS first, since a TLS
    /// 1.3 upstream sends session tickets after the handshake; only nothing to hand on
    /// (the records were tickets or other handshake messages) keeps it.
    pub async fn is_fit(&mut self) -> bool {
        match self {
            Connection::Plain(tcp) => !readable_now(tcp).await,
            Connection::Tls(tls) => {
                if !readable_now(tls.get_ref().0).await {
                    return true;
                }
                let mut byte = [0u8; 1];
                poll_fn(|cx| {
                    let mut buf = ReadBuf::new(&mut byte);
                    // Pending: what arrived was TLS's own; anything else (data, the
                    // upstream's close_notify, an end without one, an error) is not fit.
                    Poll::Ready(Pin::new(&mut **tls).poll_read(cx, &mut buf).is_pending())
                })
                .await
            }
        }
    }
}

/// Whether the event loop has seen `tcp` become readable, without a system call.
async fn readable_now(tcp: &TcpStream) -> bool {
    poll_fn(|cx| Poll::Ready(tcp.poll_read_ready(cx).is_ready())).await
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Connection::Tls(tls) => Pin::new(&mut **tls).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Connection::Tls(tls) => Pin::new(&mut **tls).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Connection::Tls(tls) => Pin::new(&mut **tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Connection::Tls(tls) => Pin::new(&mut **tls).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_testkit::{server_leaf, TestCa};
    use rustls::pki_types::PrivatePkcs8KeyDer;
    use rustls::{RootCertStore, ServerConfig};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio_rustls::TlsAcceptor;

    /// A TLS 1.3 server for `upstream.test` (sending rustls's default two session
    /// tickets after each handshake) and client settings trusting its CA.
    fn tls_pair() -> (TlsAcceptor, Arc<ClientConfig>) {
        let ca = TestCa::root("Relay Test Root");
        let mut request = server_leaf("upstream.test");
        request.dns_names = vec!["upstream.test".to_owned()];
        let leaf = ca.issue(&request);
        let key = PrivatePkcs8KeyDer::from(leaf.key.pkcs8_der().to_vec());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.cert.clone()], key.into())
            .unwrap();
        assert!(server.send_tls13_tickets > 0, "the test needs tickets sent");
        let mut roots = RootCertStore::empty();
        roots.add(ca.root_cert().clone()).unwrap();
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (TlsAcceptor::from(Arc::new(server)), Arc::new(client))
    }

    /// Whether the TCP socket under a TLS connection has something to read.
    async fn tcp_readable(connection: &Connection) -> bool {
        let Connection::Tls(stream) = connection else {
            panic!("not TLS")
        };
        readable_now(stream.get_ref().0).await
    }

    #[tokio::test]
    async fn an_idle_tls_connection_stays_fit_through_session_tickets_until_closed() {
        let (acceptor, client) = tls_pair();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let tls = UpstreamTls::new(client, "upstream.test").unwrap();
        let (opened, accepted) = tokio::join!(Connection::open(&address, Some(&tls)), async {
            let (tcp, _) = listener.accept().await.unwrap();
            acceptor.accept(tcp).await.unwrap()
        });
        let mut connection = opened.unwrap();
        let mut server = accepted;
        // The server's session tickets arrive after the handshake and wait unread: the
        // socket is readable, yet the connection is fit (and the tickets are read).
        let mut readable = false;
        for _ in 0..200 {
            readable = tcp_readable(&connection).await;
            if readable {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(readable, "no session tickets arrived");
        assert!(connection.is_fit().await, "session tickets made it unfit");
        // Read, they leave nothing readable behind (a ticket that came later is read
        // the same way).
        for _ in 0..10 {
            if !tcp_readable(&connection).await {
                break;
            }
            assert!(connection.is_fit().await, "session tickets made it unfit");
        }
        assert!(!tcp_readable(&connection).await, "tickets left unread");
        // It carries an exchange, as a request and its answer.
        connection.write_all(b"ping").await.unwrap();
        connection.flush().await.unwrap();
        let mut got = [0u8; 4];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        server.write_all(b"pong").await.unwrap();
        server.flush().await.unwrap();
        connection.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"pong");
        assert!(connection.is_fit().await);
        // The upstream closes it (close_notify, then the socket): unfit once seen.
        server.shutdown().await.unwrap();
        drop(server);
        let mut fit = true;
        for _ in 0..200 {
            fit = connection.is_fit().await;
            if !fit {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!fit, "a closed TLS connection was still handed out");
    }

    #[tokio::test]
    async fn an_upstream_with_an_untrusted_certificate_is_refused() {
        let (acceptor, _) = tls_pair();
        let (_, other_client) = tls_pair(); // trusts another CA
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let tls = UpstreamTls::new(other_client, "upstream.test").unwrap();
        let (opened, _) = tokio::join!(Connection::open(&address, Some(&tls)), async {
            let (tcp, _) = listener.accept().await.unwrap();
            acceptor.accept(tcp).await
        });
        let err = opened.err().expect("an untrusted upstream was accepted");
        assert!(err.to_string().contains("certificate"), "{err}");
    }
}
