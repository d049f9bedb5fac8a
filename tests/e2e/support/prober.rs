//! The handshake prober: proves that changing a platform's certificates (a rotation, a
//! re-issue) makes no TLS handshake between its services fail.
//!
//! Given a model and the `--root` it was applied under, the prober plays every
//! connection of the model on 127.0.0.1: a rustls server per connection built from the
//! server service's deployed files (any output holding its key; with mutual TLS a
//! required client certificate verified against its deployed truststore), and a client
//! loop making full handshakes one after the other (fresh TCP and TLS each time, SNI the
//! server's first DNS name) that verifies the server against the client service's
//! deployed truststore and presents the client's deployed key when mutual.
//!
//! Services re-read their files only when their reload runs, as real services do: the
//! model copy's reloads append to marker files ([`Markers`]) and the prober polls them,
//! rebuilding a service's server and client configurations when its marker grows.
//! Reading files at any other moment could pair a new certificate with an old key while
//! `apply` is writing.
//!
//! Connections whose server key or client trust never reaches the node (ACME, a CSR
//! made on an appliance, an external CA that has not replied yet) are not probed; each
//! is listed with the reason.

mod coverage;
mod deployed;
mod loops;
mod markers;
mod tally;
mod tls;

use deployed::Material;
pub use deployed::{deployed_certificates, read_material, Site};
pub use markers::{services_mut, Markers, Stamp};
pub use tally::{ConnectionTally, Tally};

use certfleet_platform::spec::Connection;
use coverage::{not_probed, sni_of};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tally::{Counters, Recorder};
use tls::Variant;

/// How often the reload markers are looked at.
const MARKER_POLL: Duration = Duration::from_millis(20);

/// How long [`Prober::settle`] and [`Prober::wait_for_rounds`] wait before failing the
/// test: far beyond what a loaded machine needs.
const PATIENCE: Duration = Duration::from_secs(120);

/// One probed connection.
struct Link {
    name: String,
    from: String,
    to: String,
    mtls: bool,
    sni: ServerName<'static>,
    addr: SocketAddr,
    counters: Counters,
    server: RwLock<Arc<Vec<Variant<ServerConfig>>>>,
    client: RwLock<Arc<Vec<Variant<ClientConfig>>>>,
}

/// What the prober's threads share.
struct Shared {
    site: Site,
    markers: Markers,
    links: Vec<Link>,
    pace: Duration,
    /// Tells the clients and the marker watcher to stop.
    stop: AtomicBool,
    /// Tells the servers to stop, once no client is left: a server that stopped first
    /// would reset a client's last connection.
    stop_serving: AtomicBool,
    recorder: Recorder,
    /// Each watched service's marker stamp as of the files its configurations hold.
    loaded: Mutex<BTreeMap<String, Option<Stamp>>>,
    reloads: Mutex<BTreeMap<String, u64>>,
}

/// A running prober; [`Prober::stop`] ends it and returns what it counted.
pub struct Prober {
    shared: Arc<Shared>,
    clients: Vec<JoinHandle<()>>,
    servers: Vec<JoinHandle<()>>,
    watcher: Option<JoinHandle<()>>,
    skipped: Vec<(String, String)>,
}

/// `client -> server`, with ` (mtls)` for mutual TLS.
pub fn connection_name(connection: &Connection) -> String {
    format!(
        "{} -> {}{}",
        connection.from,
        connection.to,
        if connection.mtls { " (mtls)" } else { "" }
    )
}

impl Prober {
    /// Starts probing every connection of `model` (applied under `root`, reloads writing
    /// to `markers`), each client pausing `pace` between handshakes.
    pub fn start(model: &Path, root: &Path, markers: &Markers, pace: Duration) -> Prober {
        let site = Site::load(model, root);
        let mut skipped = Vec::new();
        let mut planned = Vec::new();
        for connection in &site.platform.connections {
            match not_probed(&site, connection) {
                Some(reason) => skipped.push((connection_name(connection), reason)),
                None => planned.push(connection.clone()),
            }
        }
        let watched: BTreeSet<String> = planned
            .iter()
            .flat_map(|c| [c.from.clone(), c.to.clone()])
            .collect();
        // Stamps first: a reload while the files are read makes them read again.
        let loaded: BTreeMap<String, Option<Stamp>> = watched
            .iter()
            .map(|s| (s.clone(), markers.stamp(s)))
            .collect();
        let material: BTreeMap<String, Material> = watched
            .iter()
            .map(|s| {
                let read = read_material(&site, site.service(s))
                    .unwrap_or_else(|e| panic!("{s}'s deployed files do not read: {e}"));
                (s.clone(), read)
            })
            .collect();
        let mut listeners = Vec::new();
        let mut links = Vec::new();
        for connection in planned {
            let name = connection_name(&connection);
            let server = tls::server_configs(&material[&connection.to], connection.mtls)
                .unwrap_or_else(|e| panic!("{name}: the server's files make no TLS server: {e}"));
            let client = tls::client_configs(&material[&connection.from], connection.mtls)
                .unwrap_or_else(|e| panic!("{name}: the client's files make no TLS client: {e}"));
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            links.push(Link {
                sni: sni_of(site.service(&connection.to)),
                addr: listener.local_addr().unwrap(),
                name,
                from: connection.from,
                to: connection.to,
                mtls: connection.mtls,
                counters: Counters::default(),
                server: RwLock::new(Arc::new(server)),
                client: RwLock::new(Arc::new(client)),
            });
            listeners.push(listener);
        }
        let shared = Arc::new(Shared {
            site,
            markers: markers.clone(),
            links,
            pace,
            stop: AtomicBool::new(false),
            stop_serving: AtomicBool::new(false),
            recorder: Recorder::new(),
            loaded: Mutex::new(loaded),
            reloads: Mutex::new(BTreeMap::new()),
        });
        let servers = listeners
            .into_iter()
            .enumerate()
            .map(|(index, listener)| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || loops::serve(&shared, index, listener))
            })
            .collect();
        let clients = (0..shared.links.len())
            .map(|index| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || loops::probe(&shared, index))
            })
            .collect();
        let watcher = {
            let shared = Arc::clone(&shared);
            Some(std::thread::spawn(move || loops::watch(&shared)))
        };
        Prober {
            shared,
            clients,
            servers,
            watcher,
            skipped,
        }
    }

    /// The probed connections, in model order.
    pub fn probed(&self) -> Vec<String> {
        self.shared.links.iter().map(|l| l.name.clone()).collect()
    }

    /// The connections not probed, with the reason.
    pub fn skipped(&self) -> &[(String, String)] {
        &self.skipped
    }

    /// Names the stage of the test that following failures belong to.
    pub fn stage(&self, stage: &str) {
        self.shared.recorder.set_stage(stage);
    }

    /// Waits until every reload that ran so far has been taken in.
    pub fn settle(&self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let loaded = self.shared.loaded.lock().unwrap().clone();
            let behind: Vec<&String> = loaded
                .iter()
                .filter(|(service, stamp)| self.shared.markers.stamp(service) != **stamp)
                .map(|(service, _)| service)
                .collect();
            if behind.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the prober did not take in the reloads of {behind:?}"
            );
            std::thread::sleep(MARKER_POLL);
        }
    }

    /// Waits until every probed connection has made `rounds` more handshakes.
    pub fn wait_for_rounds(&self, rounds: u64) {
        let attempts = |link: &Link| link.counters.attempts.load(Ordering::SeqCst);
        let goal: Vec<u64> = self
            .shared
            .links
            .iter()
            .map(|l| attempts(l) + rounds)
            .collect();
        let deadline = Instant::now() + PATIENCE;
        while !self
            .shared
            .links
            .iter()
            .zip(&goal)
            .all(|(link, goal)| attempts(link) >= *goal)
        {
            assert!(
                Instant::now() < deadline,
                "the probed connections did not make {rounds} handshakes each in {PATIENCE:?}:\n{}",
                self.tally().summary()
            );
            std::thread::sleep(MARKER_POLL);
        }
    }

    /// The counts so far.
    pub fn tally(&self) -> Tally {
        let connections = self
            .shared
            .links
            .iter()
            .map(|l| ConnectionTally {
                connection: l.name.clone(),
                attempts: l.counters.attempts.load(Ordering::SeqCst),
                failures: l.counters.failures.load(Ordering::SeqCst),
                server_errors: l.counters.server_errors.load(Ordering::SeqCst),
                server_leaves: l.counters.leaves.lock().unwrap().len(),
            })
            .collect();
        Tally {
            connections,
            skipped: self.skipped.clone(),
            reload_errors: self.shared.recorder.reload_errors(),
            reloads: self.shared.reloads.lock().unwrap().clone(),
            first_failures: self.shared.recorder.kept(),
        }
    }

    /// Stops every thread and returns the counts.
    pub fn stop(mut self) -> Tally {
        self.halt();
        self.tally()
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for client in self.clients.drain(..) {
            let _ = client.join();
        }
        self.shared.stop_serving.store(true, Ordering::SeqCst);
        // Each server waits in accept: one connection wakes it to see the stop.
        for link in &self.shared.links {
            let _ = TcpStream::connect_timeout(&link.addr, Duration::from_secs(5));
        }
        for server in self.servers.drain(..) {
            let _ = server.join();
        }
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.halt();
    }
}
