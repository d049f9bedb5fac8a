//! certfleet-server: what `certfleet serve` runs, the TLS edge and the admin API in one
//! process.
//!
//! - [`startup`]: configuration, data directory, store, default certificate, admin
//!   token, domain tree and certdir watchers into [`state::AppState`];
//! - [`listeners`]: the HTTPS listeners (SNI selection per role) and the admin listener;
//! - [`connection_guard`], [`accept_backoff`]: the `[limits]` time-outs of a connection,
//!   and the pause after a failed accept ([`log_limit`] keeps such warnings rare);
//! - [`tls_accept`]: handshakes, per server name when routes ask for client certificates;
//! - [`routes`]: host and path routes to upstreams, with their authentication;
//! - [`relay`]: the forwarding path of everyday HTTP/1.1 requests to plain-HTTP
//!   upstreams, which leaves every other request to the general one of [`routes`];
//! - [`plain_http`]: the HTTP listener (ACME HTTP-01, redirect or refusal);
//! - [`http`]: the admin listener's router and the layers every answer goes through
//!   (headers, CORS, authentication, sessions, errors);
//! - [`admin`]: the admin API's routes;
//! - [`agents`]: the agent listener (`[agents]`), where `certfleet agent` on the nodes
//!   enrols, fetches its assignment, sends CSRs and reports;
//! - [`ui`]: the web UI's pages on the admin listener;
//! - [`acme`]: the domains lent to certfleet-acme's renewal loop, and its start;
//! - [`cas`]: the server's certificate authorities, their keys sealed in the store, and
//!   the automatic renewal of the domain certificates they issued;
//! - [`inventory`]: every managed certificate with its expiry state (certfleet-monitor's
//!   sources, handed the domain service, hub, platforms and store);
//! - [`monitor`]: certfleet-monitor's expiry watcher started over that inventory (the
//!   alert board and the metrics' counters are certfleet-monitor's too);
//! - [`domain_service`]: every change to the domain tree, and consistent reads of it;
//! - [`audit_log`]: the audit log a page at a time, for the API and the web UI;
//! - [`platform_service`]: plan and apply of the configured platforms;
//! - [`domain_views`]: the answers about domains, for the API and the web UI alike;
//! - [`status_report`]: the managed certificates' expiry states and the ACME progress;
//! - [`domain_sync`]: domains changed in the store by another node, served here too;
//! - [`build_details`]: the running binary's version and build (`certfleet version`,
//!   `certfleet_build_info`).
//!
//! Logging goes through `tracing`, its subscriber set up by the binary (standard error,
//! filtered by `CERTFLEET_LOG`, text or JSON lines by `CERTFLEET_LOG_FORMAT`): lifecycle
//! and ACME progress at info, alerts and refused clients at warn, failures at error;
//! clients that hang up at debug; never a key, token or password.
//!
//! [`run`] binds everything first (a taken port stops start-up naming the address),
//! prints the addresses, then serves until Ctrl-C or SIGTERM and shuts down gracefully.

pub mod accept_backoff;
pub mod acme;
pub mod admin;
pub mod agents;
pub mod audit_log;
pub mod build_details;
pub mod cas;
pub mod connection_guard;
pub mod domain_service;
pub mod domain_sync;
pub mod domain_views;
pub mod http;
pub mod inventory;
pub mod listeners;
pub mod log_limit;
pub mod monitor;
pub mod plain_http;
pub mod platform_service;
pub mod relay;
pub mod routes;
pub mod startup;
pub mod state;
pub mod status_report;
pub mod tls_accept;
pub mod ui;

use anyhow::{Context, Result};
use listeners::{bind, shutdown_pair};
use plain_http::PlainHttp;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long open connections may take to finish once shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the server until it is told to stop.
pub fn run(config_path: Option<&Path>, data_dir: Option<&Path>) -> Result<()> {
    let config = certfleet_config::load(config_path, data_dir)?;
    // One worker (`TOKIO_WORKER_THREADS=1`, or a process allowed one core): every task
    // runs on the thread that drives the runtime, so no wake-up crosses threads; more:
    // the work-stealing scheduler.
    let mut builder = if runtime_workers() == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = builder
        .enable_all()
        .thread_name("certfleet-serve")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(config))
}

/// The worker threads tokio's multi-thread runtime would start: `TOKIO_WORKER_THREADS`
/// when set to a number, else the cores this process may run on.
fn runtime_workers() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .filter(|&workers: &usize| workers > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
}

async fn serve(config: certfleet_config::ServerConfig) -> Result<()> {
    let started = startup::start(config).await?;
    let state = Arc::clone(&started.state);
    let config = &state.config;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let limits = config.limits;

    // Routes first: a trust file that cannot be read stops start-up, naming it.
    let routes = Arc::new(routes::RouteTable::build(
        &config.routes,
        &config.trusted_proxies,
    )?);
    for route in &config.routes {
        if matches!(
            route.upstream_trust,
            certfleet_config::UpstreamTrust::Insecure
        ) {
            tracing::warn!(
                "route {}{} does not verify its upstream's certificate (upstream_trust = false)",
                route.host,
                route.path
            );
        }
    }

    // Bind everything before serving anything.
    let mut https = Vec::new();
    for listener in &config.listeners {
        let bound = bind(&format!("https {}", listener.role), listener.https).await?;
        let tls = listeners::listener_tls(&state, listener, &routes)?;
        https.push((bound, tls));
    }
    let http = bind("http", config.http.listen).await?;
    let admin = bind("admin", config.admin.listen).await?;
    let admin_tls = listeners::admin_tls(&state.hub)?;
    let agent_listener = match &config.agents {
        Some(agents_config) => Some(agents::listener::prepare(&state, agents_config).await?),
        None => None,
    };

    // Each listener's handshake and request totals, for GET /metrics.
    for (listener, (bound, _)) in config.listeners.iter().zip(&https) {
        state
            .edge
            .register(&listener.role, true, Arc::clone(&bound.counters));
    }
    state
        .edge
        .register("http", false, Arc::clone(&http.counters));
    state
        .edge
        .register("admin", true, Arc::clone(&admin.counters));
    if let Some(listener) = &agent_listener {
        state.edge.register("agents", true, listener.counters());
    }

    let mut lines = Vec::new();
    for (bound, _) in &https {
        lines.push(format!("{} {}", bound.label, bound.local_addr()?));
    }
    lines.push(format!("http {}", http.local_addr()?));
    lines.push(format!("admin https://{}", admin.local_addr()?));
    if let Some(listener) = &agent_listener {
        lines.push(format!("agents https://{}", listener.local_addr()?));
    }
    lines.push(format!("data_dir {}", config.data_dir.display()));
    let https_port = match https.first() {
        Some((bound, _)) => bound.local_addr()?.port(),
        None => 443,
    };

    let (trigger, shutdown) = shutdown_pair();
    let mut tasks = tokio::task::JoinSet::new();
    for (bound, tls) in https {
        tasks.spawn(listeners::serve_listener(
            bound,
            tls,
            Arc::clone(&routes),
            limits,
            shutdown.clone(),
        ));
    }
    let plain = PlainHttp {
        insecure: config.http.insecure,
        https_port,
        challenges: Arc::clone(&state.challenges),
        routes: Arc::clone(&routes),
    };
    let http_counters = Arc::clone(&http.counters);
    tasks.spawn(listeners::accept_loop(
        http,
        None,
        limits,
        shutdown.clone(),
        move |io, conn, shutdown| {
            let plain = plain.clone();
            let counters = Arc::clone(&http_counters);
            async move {
                let service = hyper::service::service_fn(move |req| {
                    let plain = plain.clone();
                    let counters = Arc::clone(&counters);
                    async move {
                        let response = plain.respond(&req).await;
                        counters.response(response.status().as_u16());
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                listeners::serve_http(
                    io,
                    service,
                    conn.peer,
                    tls_accept::Negotiated::Unknown,
                    limits,
                    shutdown,
                )
                .await;
            }
        },
    ));
    tasks.spawn(listeners::serve_admin(
        admin,
        admin_tls,
        http::router(Arc::clone(&state)),
        limits,
        shutdown.clone(),
    ));
    if let Some(listener) = agent_listener {
        tasks.spawn(agents::listener::serve(listener, limits, shutdown.clone()));
    }
    drop(shutdown);
    let background = [
        tokio::spawn(acme::run(Arc::clone(&state), Arc::clone(&state.acme))),
        tokio::spawn(cas::renewal::run(Arc::clone(&state))),
        tokio::spawn(certfleet_monitor::alerts::drain_edge_alerts(
            Arc::clone(&state.hub),
            Arc::clone(&state.alerts),
        )),
        tokio::spawn(domain_sync::run(Arc::clone(&state))),
    ];
    let expiry_watcher = monitor::start_expiry_watcher(Arc::clone(&state));

    {
        let mut out = std::io::stdout().lock();
        for line in &lines {
            // A closed stdout must not stop the server.
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
    tracing::info!("certfleet serve: ready");

    wait_for_signal().await;
    tracing::info!("certfleet serve: shutting down");
    let finished = trigger.shutdown(SHUTDOWN_GRACE).await;
    if !finished {
        tracing::warn!(
            "certfleet serve: connections still open after {}s were closed",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    tasks.abort_all();
    expiry_watcher.stop().await;
    for task in background {
        task.abort();
    }
    for watcher in started.watchers {
        watcher.stop();
    }
    Ok(())
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!("cannot watch SIGTERM ({err}); stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
