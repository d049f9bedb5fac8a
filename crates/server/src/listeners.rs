//! The TLS listeners: one per `[[listener]]` (certificates chosen by SNI for its role)
//! and the admin listener (always the installation's default certificate).
//!
//! Every listener is bound before any is served, so that a taken port stops start-up
//! with an error naming the address. Each accepted connection runs on a task of its own:
//! TLS handshake, then HTTP/1.1 or HTTP/2 (ALPN) through hyper-util's automatic server.
//! `[limits]` bound every listener: at most `max_connections` open at once (more wait in
//! the kernel's queue until one closes), the handshake and each request head within the
//! header time-out, silence no longer than the idle time-out ([`super::connection_guard`]).
//! A failing accept pauses the loop ([`super::accept_backoff`]). Each listener counts its
//! handshakes by result and its responses by status class on its
//! [`ListenerCounters`] (plain atomics) for `GET /metrics`. On shutdown the accept
//! loops stop and open connections are asked to finish ([`Shutdown`]).

use super::accept_backoff::AcceptBackoff;
use super::acme::AlpnAnswers;
use super::connection_guard::{Activity, ActivityIo, Due, FirstRequest, Watchdog};
use super::log_limit::{held_back_note, LogLimit};
use super::relay::{Outcome, Relay};
use super::routes::{service, RouteTable};
use super::state::AppState;
use super::tls_accept::{ConnectionInfo, ListenerTls, Negotiated};
use crate::http::login_throttle::ClientAddr;
use anyhow::{Context, Result};
use certfleet_config::{ConnectionLimits, ListenerConfig, TlsProfile as ConfigProfile};
use certfleet_edge::hub::CertificateHub;
use certfleet_edge::sni::ACME_TLS_ALPN;
use certfleet_edge::tls::{server_config, TlsOptions, TlsProfile};
use certfleet_monitor::edge_metrics::{HandshakeResult, ListenerCounters};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};

/// At most one "max_connections reached" warning per listener per this period.
const CAP_WARNING_PERIOD: Duration = Duration::from_secs(60);

/// The server-wide shutdown signal and the count of open connections.
#[derive(Clone)]
pub struct Shutdown {
    signal: watch::Receiver<bool>,
    /// Held by every accept loop and open connection; all dropped means all closed.
    _open: mpsc::Sender<()>,
}

/// The controlling side of [`Shutdown`].
pub struct ShutdownTrigger {
    signal: watch::Sender<bool>,
    open: mpsc::Receiver<()>,
}

/// A new shutdown pair.
pub fn shutdown_pair() -> (ShutdownTrigger, Shutdown) {
    let (signal_tx, signal_rx) = watch::channel(false);
    let (open_tx, open_rx) = mpsc::channel(1);
    (
        ShutdownTrigger {
            signal: signal_tx,
            open: open_rx,
        },
        Shutdown {
            signal: signal_rx,
            _open: open_tx,
        },
    )
}

impl Shutdown {
    /// Whether shutdown has been asked for already.
    pub fn is_requested(&self) -> bool {
        *self.signal.borrow()
    }

    /// Resolves once shutdown has been asked for.
    pub async fn requested(&mut self) {
        // An error means the trigger is gone, which also means shutting down.
        let _ = self.signal.wait_for(|stop| *stop).await;
    }
}

impl ShutdownTrigger {
    /// Stops the accept loops and waits up to `grace` for open connections to finish.
    /// Returns whether every connection finished in time.
    pub async fn shutdown(mut self, grace: Duration) -> bool {
        let _ = self.signal.send(true); // no receiver left: nothing is running anyway
                                        // `recv` returns None once every clone of the sender (one per accept loop and per
                                        // open connection, plus the caller's) has been dropped.
        tokio::time::timeout(grace, async { while self.open.recv().await.is_some() {} })
            .await
            .is_ok()
    }
}

/// A bound TCP socket waiting to be served.
pub struct BoundListener {
    /// What it is, for messages (`https ws`, `admin`, `http`).
    pub label: String,
    /// The bound socket.
    pub tcp: TcpListener,
    /// Its handshake and response totals (registered for `GET /metrics` by the caller).
    pub counters: Arc<ListenerCounters>,
}

impl BoundListener {
    /// The address actually bound (the port is the real one when 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.tcp
            .local_addr()
            .with_context(|| format!("{} listener: no local address", self.label))
    }
}

/// Binds `addr`, naming it (and what it was for) on failure.
pub async fn bind(label: &str, addr: SocketAddr) -> Result<BoundListener> {
    let tcp = TcpListener::bind(addr).await.with_context(|| {
        format!(
            "{label} listener: cannot bind {addr} (taken by another process, or a port below 1024 without privileges?)"
        )
    })?;
    // Accepted connections inherit Nagle's algorithm off from the listening socket
    // (Linux copies the listener's TCP options into each), which saves a system call per
    // connection. An optimisation only: without it the writes are merely coalesced.
    let _ = socket2::SockRef::from(&tcp).set_tcp_nodelay(true);
    Ok(BoundListener {
        label: label.to_owned(),
        tcp,
        counters: Arc::default(),
    })
}

/// The edge's TLS profile for a configured one.
pub fn edge_profile(profile: ConfigProfile) -> TlsProfile {
    match profile {
        ConfigProfile::Intermediate => TlsProfile::Intermediate,
        ConfigProfile::Modern => TlsProfile::Modern,
    }
}

/// The handshakes of a `[[listener]]`: certificates selected by SNI for its role (and
/// TLS-ALPN-01 challenge certificates for ACME validation), client certificates asked
/// for on the hosts whose routes use them.
pub fn listener_tls(
    state: &AppState,
    config: &ListenerConfig,
    routes: &RouteTable,
) -> Result<ListenerTls> {
    let mut options = TlsOptions {
        profile: edge_profile(config.tls_profile),
        session_resumption: config.session_resumption,
        ..TlsOptions::default()
    };
    options.alpn.push(ACME_TLS_ALPN.to_vec());
    let answers = Arc::new(AlpnAnswers(Arc::clone(&state.challenges)));
    let resolver = state
        .hub
        .cert_resolver_with_challenges(&config.role, answers);
    ListenerTls::new(&options, resolver, routes)
        .with_context(|| format!("TLS settings of listener role {}", config.role))
}

/// Always the installation's current default certificate, whatever the SNI: the admin
/// listener's certificate, which client commands pin from the data directory.
#[derive(Debug)]
pub struct DefaultCertResolver {
    hub: Arc<CertificateHub>,
}

impl ResolvesServerCert for DefaultCertResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.hub
            .snapshot()
            .default_certificate()
            .certified_key()
            .map(Arc::clone)
    }
}

/// The admin listener's handshakes (Mozilla intermediate, default certificate).
pub fn admin_tls(hub: &Arc<CertificateHub>) -> Result<ListenerTls> {
    let resolver = Arc::new(DefaultCertResolver {
        hub: Arc::clone(hub),
    });
    let tls = server_config(&TlsOptions::default(), resolver).context("admin TLS settings")?;
    Ok(ListenerTls::fixed(tls))
}

/// Serves one `[[listener]]` until shutdown: every request goes through the routes.
pub async fn serve_listener(
    bound: BoundListener,
    tls: ListenerTls,
    routes: Arc<RouteTable>,
    limits: ConnectionLimits,
    shutdown: Shutdown,
) {
    let counters = Arc::clone(&bound.counters);
    accept_loop(
        bound,
        Some(tls),
        limits,
        shutdown,
        move |io, conn, shutdown| {
            let peer = conn.peer;
            let protocol = conn.protocol;
            // What every request of the connection needs, shared once per connection so
            // that a request clones one uncontended Arc.
            let connection = Arc::new(ServedConnection {
                routes: Arc::clone(&routes),
                counters: Arc::clone(&counters),
                info: conn,
            });
            async move {
                let mut shutdown = shutdown;
                let io = if protocol == Negotiated::Http2 {
                    io
                } else {
                    let relay = Relay {
                        routes: &connection.routes,
                        counters: &connection.counters,
                        info: &connection.info,
                        limits,
                    };
                    match relay.serve(io, &mut shutdown).await {
                        Outcome::Closed => return,
                        Outcome::Elsewhere(io) => io,
                    }
                };
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let connection = Arc::clone(&connection);
                    async move {
                        let response =
                            service::handle(&connection.routes, &connection.info, req).await;
                        connection.counters.response(response.status().as_u16());
                        Ok::<_, Infallible>(response)
                    }
                });
                serve_http(io, service, peer, protocol, limits, shutdown).await;
            }
        },
    )
    .await;
}

/// One connection of a `[[listener]]`: its routes, its TLS details and the listener's
/// counters.
struct ServedConnection {
    routes: Arc<RouteTable>,
    counters: Arc<ListenerCounters>,
    info: ConnectionInfo,
}

/// Serves the admin API until shutdown. Each request carries the client's address
/// ([`ClientAddr`]) in its extensions.
pub async fn serve_admin(
    bound: BoundListener,
    tls: ListenerTls,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: Shutdown,
) {
    let router = router.layer(axum::middleware::map_response_with_state(
        Arc::clone(&bound.counters),
        count_response,
    ));
    accept_loop(
        bound,
        Some(tls),
        limits,
        shutdown,
        move |io, conn, shutdown| {
            let service = WithClientAddr {
                inner: TowerToHyperService::new(router.clone()),
                peer: conn.peer,
            };
            async move {
                serve_http(
                    io,
                    service,
                    conn.peer,
                    Negotiated::Unknown,
                    limits,
                    shutdown,
                )
                .await
            }
        },
    )
    .await;
}

/// Counts an admin answer by its status class on the listener's counters.
async fn count_response(
    axum::extract::State(counters): axum::extract::State<Arc<ListenerCounters>>,
    response: axum::response::Response,
) -> axum::response::Response {
    counters.response(response.status().as_u16());
    response
}

/// A hyper service that puts the client's address into each request's extensions.
#[derive(Clone)]
struct WithClientAddr<S> {
    inner: S,
    peer: SocketAddr,
}

impl<S, B> hyper::service::Service<Request<B>> for WithClientAddr<S>
where
    S: hyper::service::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, mut request: Request<B>) -> Self::Future {
        request.extensions_mut().insert(ClientAddr(self.peer));
        self.inner.call(request)
    }
}

/// A boxed byte stream: TLS or plain TCP.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// Accepts connections until shutdown, at most `limits.max_connections` open at once;
/// for each, performs the TLS handshake (when an acceptor is given, within the header
/// time-out) and hands the stream to `handle` on a task of its own.
pub async fn accept_loop<F, Fut>(
    bound: BoundListener,
    tls: Option<ListenerTls>,
    limits: ConnectionLimits,
    mut shutdown: Shutdown,
    handle: F,
) where
    F: Fn(Box<dyn Stream>, ConnectionInfo, Shutdown) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let handle = Arc::new(handle);
    let tls = tls.map(Arc::new);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let cap_warnings = LogLimit::new(CAP_WARNING_PERIOD);
    let mut backoff = AcceptBackoff::default();
    loop {
        if slots.available_permits() == 0 {
            if let Some(held_back) = cap_warnings.admit() {
                tracing::warn!(
                    "{} listener: {} connections open, the [limits] max_connections; new ones wait until one closes{}",
                    bound.label,
                    limits.max_connections,
                    held_back_note(held_back)
                );
            }
        }
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = shutdown.requested() => break,
        };
        // The semaphore is never closed, so acquiring cannot fail; stop if it ever did.
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = bound.tcp.accept() => accepted,
            () = shutdown.requested() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(pair) => {
                backoff.succeeded();
                pair
            }
            Err(err) => {
                drop(slot);
                backoff.failed(&bound.label, &err).await;
                continue;
            }
        };
        let tls = tls.clone();
        let handle = Arc::clone(&handle);
        let conn_shutdown = shutdown.clone();
        let label = bound.label.clone();
        let counters = Arc::clone(&bound.counters);
        tokio::spawn(async move {
            // Held until the connection is done: one of the listener's slots.
            let _slot = slot;
            let (io, conn): (Box<dyn Stream>, ConnectionInfo) = match tls {
                None => (Box::new(tcp), ConnectionInfo::plain(peer)),
                Some(tls) => {
                    match tokio::time::timeout(limits.header_timeout, tls.accept(tcp, peer)).await {
                        Ok(Ok(Some((stream, conn)))) => {
                            counters.handshake(HandshakeResult::Ok);
                            (Box::new(stream), conn)
                        }
                        // An ACME server validating TLS-ALPN-01: the handshake was all.
                        Ok(Ok(None)) => {
                            counters.handshake(HandshakeResult::AcmeChallenge);
                            return;
                        }
                        // A port probe or a client that gave up before its hello.
                        Ok(Err(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                            counters.handshake(HandshakeResult::Aborted);
                            return;
                        }
                        Ok(Err(err)) => {
                            counters.handshake(HandshakeResult::Failed);
                            tracing::debug!("{label}: TLS handshake with {peer} failed: {err}");
                            return;
                        }
                        Err(_) => {
                            counters.handshake(HandshakeResult::Timeout);
                            tracing::debug!("{label}: TLS handshake with {peer} timed out");
                            return;
                        }
                    }
                }
            };
            handle(io, conn, conn_shutdown).await;
        });
    }
}

/// Serves HTTP/1.1 (with upgrades) or HTTP/2 on `io` until the peer is done, the
/// connection runs out of time (`limits`), or shutdown is asked for, in which case the
/// connection is closed gracefully. `protocol` is the HTTP version ALPN settled, or
/// [`Negotiated::Unknown`] to tell it from the first bytes.
pub async fn serve_http<S, B>(
    io: Box<dyn Stream>,
    service: S,
    peer: SocketAddr,
    protocol: Negotiated,
    limits: ConnectionLimits,
    mut shutdown: Shutdown,
) where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let activity = Activity::new();
    let watchdog = Watchdog::new(
        Arc::clone(&activity),
        limits.header_timeout,
        limits.idle_timeout,
    );
    let io = ActivityIo::new(io, Arc::clone(&activity));
    let service = FirstRequest::new(service, activity);
    let mut builder = Builder::new(TokioExecutor::new());
    // A version settled by ALPN is served as such, without looking for the HTTP/2
    // preface in the first bytes.
    builder = match protocol {
        Negotiated::Http1 => builder.http1_only(),
        Negotiated::Http2 => builder.http2_only(),
        Negotiated::Unknown => builder,
    };
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut closing = false;
    let mut idle_closing = false;
    let result = loop {
        let wake = match watchdog.check() {
            Due::Nothing(at) => tokio::time::Instant::from_std(at),
            Due::NoRequest => {
                tracing::debug!("connection from {peer}: no request within the header time-out");
                return;
            }
            Due::Idle if idle_closing => {
                tracing::debug!("connection from {peer}: still idle after being asked to close");
                return;
            }
            Due::Idle => {
                conn.as_mut().graceful_shutdown();
                idle_closing = true;
                watchdog.restart_idle();
                continue;
            }
        };
        // The connection first: the other two are rarely due, and a fixed order spares
        // the random draw of an unbiased select on every wake-up.
        tokio::select! {
            biased;
            result = conn.as_mut() => break result,
            () = shutdown.requested(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = tokio::time::sleep_until(wake) => {}
        }
    };
    if let Err(err) = result {
        // Clients that hang up mid-request or run out of time are common and no fault of
        // the server's.
        tracing::debug!("connection from {peer}: {err}");
    }
}

/// The host a request is for: the URI authority (HTTP/2) or the Host header, without
/// the port.
pub fn request_host<B>(req: &Request<B>) -> Option<String> {
    let raw = req
        .uri()
        .authority()
        .map(|a| a.host().to_owned())
        .or_else(|| {
            req.headers()
                .get(hyper::header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(|h| strip_port(h).to_owned())
        })?;
    let host = raw.trim().to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// `host:port` → `host` (bracketed IPv6 kept whole).
pub fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// A short plain-text response.
pub fn text_response(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port("app.example.test:8443"), "app.example.test");
        assert_eq!(strip_port("app.example.test"), "app.example.test");
        assert_eq!(strip_port("[::1]:8443"), "[::1]");
        assert_eq!(strip_port("::1"), "::1");
    }

    #[tokio::test]
    async fn accepted_connections_have_nagle_off_without_asking() {
        let bound = bind("test", "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = bound.local_addr().unwrap();
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = bound.tcp.accept().await.unwrap();
        assert!(
            accepted.nodelay().unwrap(),
            "the accept loop relies on this"
        );
        assert!(
            !client.nodelay().unwrap(),
            "only the accepted side is changed"
        );
    }
}
