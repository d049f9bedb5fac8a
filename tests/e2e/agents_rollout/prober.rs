//! A prober: one thread per service making full TLS handshakes (chain verified against
//! the platform's root, the service's SNI) one after the other until stopped, each
//! attempt recorded with its start, end and outcome; and what the attempts tell about
//! the moment a service's leaf was replaced.

use crate::support::tls_client::HandshakeClient;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// One handshake attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When it began.
    pub start: Instant,
    /// When it ended.
    pub end: Instant,
    /// When it ended, by the wall clock (to set beside the audit log's times).
    pub end_at: OffsetDateTime,
    /// The served leaf's SHA-256 (upper-case hex), or why it failed.
    pub result: Result<String, String>,
}

/// The running prober.
pub struct Prober {
    stop: Arc<AtomicBool>,
    made: Arc<Vec<AtomicUsize>>,
    threads: Vec<JoinHandle<Vec<Attempt>>>,
}

impl Prober {
    /// Starts probing each (address, server name) of `targets`.
    pub fn start(root: &Path, targets: &[(SocketAddr, String)]) -> Prober {
        let client = HandshakeClient::new(root);
        let stop = Arc::new(AtomicBool::new(false));
        let made: Arc<Vec<AtomicUsize>> =
            Arc::new(targets.iter().map(|_| AtomicUsize::new(0)).collect());
        let threads = targets
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, (addr, sni))| {
                let client = client.clone();
                let stop = Arc::clone(&stop);
                let made = Arc::clone(&made);
                std::thread::spawn(move || {
                    let mut attempts = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let start = Instant::now();
                        let result = client.handshake(addr, &sni);
                        attempts.push(Attempt {
                            start,
                            end: Instant::now(),
                            end_at: OffsetDateTime::now_utc(),
                            result,
                        });
                        made[i].fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    attempts
                })
            })
            .collect();
        Prober {
            stop,
            made,
            threads,
        }
    }

    /// Waits (up to a minute) until every target has had an attempt.
    pub fn wait_for_first_attempts(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.made.iter().any(|n| n.load(Ordering::SeqCst) == 0) {
            assert!(Instant::now() < deadline, "the prober made no attempt");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the threads; each target's attempts, in the order of `targets`.
    pub fn finish(self) -> Vec<Vec<Attempt>> {
        self.stop.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .map(|thread| thread.join().expect("a prober thread panicked"))
            .collect()
    }
}

/// How one target's leaf went from an old one to a new one, as the attempts saw it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The last attempt that was served the old leaf.
    pub last_old: Attempt,
    /// The first attempt that was served the new leaf.
    pub first_new: Attempt,
}

/// The change from `old` to `new` in `attempts`, which must all have succeeded with one
/// of the two, the first with `old` and the last with `new`; `Err` says which did not.
pub fn change(attempts: &[Attempt], old: &str, new: &str) -> Result<Change, String> {
    for a in attempts {
        match &a.result {
            Ok(sha) if sha == old || sha == new => {}
            other => return Err(format!("served neither {old} nor {new}: {other:?}")),
        }
    }
    let served = |a: &&Attempt, leaf: &str| a.result.as_deref() == Ok(leaf);
    match attempts.first() {
        Some(first) if served(&first, old) => {}
        other => return Err(format!("the first attempt was not served {old}: {other:?}")),
    }
    match attempts.last() {
        Some(last) if served(&last, new) => {}
        other => return Err(format!("the last attempt was not served {new}: {other:?}")),
    }
    let first_new = attempts
        .iter()
        .find(|a| served(a, new))
        .cloned()
        .ok_or("never served the new leaf")?;
    let last_old = attempts
        .iter()
        .rev()
        .find(|a| served(a, old))
        .cloned()
        .ok_or("never served the old leaf")?;
    Ok(Change {
        last_old,
        first_new,
    })
}

/// The attempts of `attempts` that began at or after `from` and before `to`.
pub fn between(attempts: &[Attempt], from: Instant, to: Instant) -> Vec<Attempt> {
    attempts
        .iter()
        .filter(|a| a.start >= from && a.start < to)
        .cloned()
        .collect()
}
