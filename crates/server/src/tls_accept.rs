//! The TLS side of accepting a connection, and what the handshake tells the rest.
//!
//! Most listeners use one TLS configuration for every handshake. When routes use client
//! certificates, the client's hello is read first and the configuration chosen by its
//! server name: hosts with such routes ask for a certificate (with their own client CAs
//! as hints), every other name is served without asking, so browsers visiting them are
//! never prompted.

use super::routes::client_auth::handshake_verifier;
use super::routes::RouteTable;
use anyhow::{Context, Result};
use certfleet_edge::sni::ACME_TLS_ALPN;
use certfleet_edge::tls::{server_config, server_config_with_client_auth, TlsOptions};
use rustls::server::Acceptor;
use rustls::ServerConfig;
use rustls_pki_types::CertificateDer;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::{LazyConfigAcceptor, TlsAcceptor};

/// What a connection's handshake established.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// The server name the client asked for (lower-case), when it sent one.
    pub sni: Option<String>,
    /// The certificate chain the client presented (leaf first), when asked and given.
    pub client_chain: Option<Vec<CertificateDer<'static>>>,
    /// The HTTP version the handshake settled on (ALPN), when it settled one.
    pub protocol: Negotiated,
}

/// What ALPN chose for the connection's HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// `http/1.1`.
    Http1,
    /// `h2`.
    Http2,
    /// Nothing (no ALPN, or plain TCP): the server recognises the version itself.
    Unknown,
}

impl Negotiated {
    fn of(alpn: Option<&[u8]>) -> Negotiated {
        match alpn {
            Some(b"http/1.1") => Negotiated::Http1,
            Some(b"h2") => Negotiated::Http2,
            _ => Negotiated::Unknown,
        }
    }
}

impl ConnectionInfo {
    /// A connection without TLS.
    pub fn plain(peer: SocketAddr) -> ConnectionInfo {
        ConnectionInfo {
            peer,
            sni: None,
            client_chain: None,
            protocol: Negotiated::Unknown,
        }
    }

    fn of(peer: SocketAddr, tls: &TlsStream<TcpStream>) -> ConnectionInfo {
        let (_, session) = tls.get_ref();
        ConnectionInfo {
            peer,
            sni: session.server_name().map(str::to_ascii_lowercase),
            client_chain: session.peer_certificates().map(<[_]>::to_vec),
            protocol: Negotiated::of(session.alpn_protocol()),
        }
    }
}

/// How a listener performs handshakes.
pub enum ListenerTls {
    /// One configuration for every handshake.
    Fixed(TlsAcceptor),
    /// A configuration per server name, for hosts whose routes use client certificates.
    ByServerName {
        /// For every other name, and for handshakes without one.
        plain: Arc<ServerConfig>,
        /// Per configured host (exact, or `*.suffix`).
        by_host: HashMap<String, Arc<ServerConfig>>,
    },
}

impl ListenerTls {
    /// The handshakes of a listener whose certificates come from `resolver`, asking for
    /// client certificates on the hosts whose routes use them.
    pub fn new(
        options: &TlsOptions,
        resolver: Arc<dyn rustls::server::ResolvesServerCert>,
        routes: &RouteTable,
    ) -> Result<ListenerTls> {
        let plain = server_config(options, Arc::clone(&resolver))?;
        let mut by_host = HashMap::new();
        for host in routes.hosts() {
            let Some(verifier) = handshake_verifier(host, routes.routes_for_host(host))? else {
                continue;
            };
            let config = server_config_with_client_auth(options, Arc::clone(&resolver), verifier)
                .with_context(|| format!("TLS settings for {host}"))?;
            by_host.insert(host.to_owned(), Arc::new(config));
        }
        if by_host.is_empty() {
            return Ok(ListenerTls::Fixed(TlsAcceptor::from(Arc::new(plain))));
        }
        Ok(ListenerTls::ByServerName {
            plain: Arc::new(plain),
            by_host,
        })
    }

    /// One configuration for every handshake.
    pub fn fixed(config: ServerConfig) -> ListenerTls {
        ListenerTls::Fixed(TlsAcceptor::from(Arc::new(config)))
    }

    /// Performs the handshake on `tcp`. `None`: it was an ACME TLS-ALPN-01 validation
    /// (ALPN `acme-tls/1`), complete once the handshake is; the connection is closed.
    pub async fn accept(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
    ) -> std::io::Result<Option<(TlsStream<TcpStream>, ConnectionInfo)>> {
        let tls = match self {
            ListenerTls::Fixed(acceptor) => acceptor.accept(tcp).await?,
            ListenerTls::ByServerName { plain, by_host } => {
                let start = LazyConfigAcceptor::new(Acceptor::default(), tcp).await?;
                let name = start
                    .client_hello()
                    .server_name()
                    .map(str::to_ascii_lowercase);
                let config = name
                    .as_deref()
                    .and_then(|name| config_for(by_host, name))
                    .unwrap_or(plain);
                start.into_stream(Arc::clone(config)).await?
            }
        };
        if tls.get_ref().1.alpn_protocol() == Some(ACME_TLS_ALPN) {
            let name = tls.get_ref().1.server_name().unwrap_or("(no name)");
            tracing::info!("acme: answered a TLS-ALPN-01 validation for {name} from {peer}");
            let mut tls = tls;
            // The validation is over; a failed close changes nothing.
            let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
            return Ok(None);
        }
        let info = ConnectionInfo::of(peer, &tls);
        Ok(Some((tls, info)))
    }
}

/// The configuration for `name`: its own, or its parent's `*.` pattern's.
fn config_for<'a>(
    by_host: &'a HashMap<String, Arc<ServerConfig>>,
    name: &str,
) -> Option<&'a Arc<ServerConfig>> {
    by_host.get(name).or_else(|| {
        let (_, parent) = name.split_once('.')?;
        by_host.get(&format!("*.{parent}"))
    })
}
