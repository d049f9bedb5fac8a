//! The agent listener: bound next to the admin listener when `[agents]` is configured,
//! served until shutdown like the others ([`crate::listeners::accept_loop`]). Its TLS
//! presents a certificate from the agents CA (made afresh at every start for `[agents]
//! names`), asks every client for a certificate and verifies one that is given against
//! the agents CA, but lets clients without one through: enrolment has none yet. Each
//! request carries the verified chain ([`PeerChain`]) for [`super::auth`].

use super::ca::AgentsCa;
use super::Agents;
use crate::cas::CaRepository;
use crate::listeners::{accept_loop, bind, serve_http, BoundListener, Shutdown};
use crate::state::AppState;
use crate::tls_accept::ListenerTls;
use crate::tls_accept::Negotiated;
use anyhow::{Context, Result};
use certfleet_config::{AgentsConfig, ConnectionLimits};
use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::tls::{
    crypto_provider, server_config_with_client_auth, TlsOptions, TlsProfile,
};
use certfleet_monitor::edge_metrics::ListenerCounters;
use hyper::Request;
use hyper_util::service::TowerToHyperService;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use std::sync::Arc;

/// The client's certificate chain as the handshake verified it (leaf first), when the
/// client sent one.
#[derive(Debug, Clone)]
pub struct PeerChain(pub Option<Vec<CertificateDer<'static>>>);

/// A bound agent listener, ready to serve.
pub struct AgentListener {
    bound: BoundListener,
    tls: ListenerTls,
    agents: Arc<Agents>,
}

impl AgentListener {
    /// The address actually bound.
    pub fn local_addr(&self) -> Result<std::net::SocketAddr> {
        self.bound.local_addr()
    }

    /// Its handshake and response totals.
    pub fn counters(&self) -> Arc<ListenerCounters> {
        Arc::clone(&self.bound.counters)
    }
}

/// Loads (or makes) the agents CA, makes the listener's certificate and binds
/// `config.listen`.
pub async fn prepare(state: &Arc<AppState>, config: &AgentsConfig) -> Result<AgentListener> {
    let repository = CaRepository::new(Arc::clone(&state.store), Arc::clone(&state.master_key));
    let ca = AgentsCa::load_or_create(&repository)
        .await
        .context("[agents]: the agents CA")?;
    let served = ca
        .listener_certificate(config)
        .context("[agents] names: the agent listener's certificate")?;
    let tls = listener_tls(&ca, &served)?;
    let bound = bind("agents", config.listen).await?;
    let agents = Arc::new(Agents::new(Arc::clone(state), ca, config.identity_days));
    Ok(AgentListener { bound, tls, agents })
}

/// Always the listener's one certificate.
#[derive(Debug)]
struct OneCertificate(Arc<CertifiedKey>);

impl ResolvesServerCert for OneCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

fn listener_tls(ca: &AgentsCa, served: &ServedCertificate) -> Result<ListenerTls> {
    let mut roots = RootCertStore::empty();
    roots
        .add(ca.certificate().clone())
        .context("[agents]: the agents CA as a client trust anchor")?;
    let verifier = WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(crypto_provider(TlsProfile::Intermediate)),
    )
    .allow_unauthenticated()
    .build()
    .context("[agents]: the client certificate verifier")?;
    let key = served
        .certified_key()
        .context("[agents]: the agent listener's certificate has no usable key")?;
    let resolver = Arc::new(OneCertificate(Arc::clone(key)));
    let config = server_config_with_client_auth(&TlsOptions::default(), resolver, verifier)
        .context("[agents]: TLS settings")?;
    Ok(ListenerTls::fixed(config))
}

/// Serves the agent listener until shutdown; waiting assignment requests are answered
/// as soon as shutdown is asked for, so that their connections close in time. Beside it
/// run the watches of [`super::spawn_watches`].
pub async fn serve(listener: AgentListener, limits: ConnectionLimits, shutdown: Shutdown) {
    let AgentListener { bound, tls, agents } = listener;
    let router = super::routes::router(Arc::clone(&agents));
    super::spawn_watches(&agents);
    let mut watch = shutdown.clone();
    tokio::spawn(async move {
        watch.requested().await;
        agents.stop();
    });
    accept_loop(
        bound,
        Some(tls),
        limits,
        shutdown,
        move |io, conn, shutdown| {
            let service = WithPeer {
                inner: TowerToHyperService::new(router.clone()),
                chain: PeerChain(conn.client_chain.clone()),
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

/// Puts the connection's client chain into each request's extensions.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    chain: PeerChain,
}

impl<S, B> hyper::service::Service<Request<B>> for WithPeer<S>
where
    S: hyper::service::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, mut request: Request<B>) -> Self::Future {
        request.extensions_mut().insert(self.chain.clone());
        self.inner.call(request)
    }
}
