//! The prober's threads: per probed connection a server accepting and a client making
//! full handshakes one after the other, and one watcher that reloads a service when its
//! reload marker changes.

use super::deployed::read_material;
use super::{tls, Shared, MARKER_POLL};
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The server side of link `index`: serves each accepted connection in turn with the
/// configuration current at that moment.
pub(super) fn serve(shared: &Shared, index: usize, listener: TcpListener) {
    let link = &shared.links[index];
    for (turn, stream) in listener.incoming().enumerate() {
        if shared.stop_serving.load(Ordering::SeqCst) {
            return;
        }
        let configs = Arc::clone(&link.server.read().unwrap());
        let (label, config) = &configs[turn % configs.len()];
        let served = stream
            .map_err(|e| format!("accept: {e}"))
            .and_then(|stream| tls::serve_one(stream, Arc::clone(config)));
        if let Err(e) = served {
            link.counters.server_errors.fetch_add(1, Ordering::SeqCst);
            shared
                .recorder
                .failure(&link.name, "server", format!("{label}: {e}"));
        }
    }
}

/// The client side of link `index`: one full handshake after the other until stopped.
pub(super) fn probe(shared: &Shared, index: usize) {
    let link = &shared.links[index];
    let mut turn = 0usize;
    while !shared.stop.load(Ordering::SeqCst) {
        let configs = Arc::clone(&link.client.read().unwrap());
        let (label, config) = &configs[turn % configs.len()];
        turn += 1;
        match tls::handshake(link.addr, &link.sni, Arc::clone(config)) {
            Ok(leaf) => {
                link.counters.leaves.lock().unwrap().insert(leaf);
            }
            Err(e) => {
                link.counters.failures.fetch_add(1, Ordering::SeqCst);
                shared
                    .recorder
                    .failure(&link.name, "client", format!("{label}: {e}"));
            }
        }
        link.counters.attempts.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(shared.pace);
    }
}

/// Polls the reload markers and reloads the services whose marker changed.
pub(super) fn watch(shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let loaded = shared.loaded.lock().unwrap().clone();
        for (service, stamp) in loaded {
            let now = shared.markers.stamp(&service);
            if now != stamp {
                reload(shared, &service);
                shared.loaded.lock().unwrap().insert(service, now);
            }
        }
        std::thread::sleep(MARKER_POLL);
    }
}

/// What a service does when its reload runs: reads its files again and swaps in new
/// server and client configurations. Files that do not read or do not make a
/// configuration are a failed reload; the service keeps what it had.
fn reload(shared: &Shared, service: &str) {
    *shared
        .reloads
        .lock()
        .unwrap()
        .entry(service.to_owned())
        .or_default() += 1;
    let what = format!("reload of {service}");
    let material = match read_material(&shared.site, shared.site.service(service)) {
        Ok(material) => material,
        Err(e) => return shared.recorder.failure(&what, "reload", e),
    };
    for link in &shared.links {
        if link.to == service {
            match tls::server_configs(&material, link.mtls) {
                Ok(configs) => *link.server.write().unwrap() = Arc::new(configs),
                Err(e) => shared
                    .recorder
                    .failure(&what, "reload", format!("{}: {e}", link.name)),
            }
        }
        if link.from == service {
            match tls::client_configs(&material, link.mtls) {
                Ok(configs) => *link.client.write().unwrap() = Arc::new(configs),
                Err(e) => shared
                    .recorder
                    .failure(&what, "reload", format!("{}: {e}", link.name)),
            }
        }
    }
}
