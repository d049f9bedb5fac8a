//! A prober: one thread per service making full TLS handshakes (chain verified against
//! the platform's root, the service's SNI) one after the other until stopped, each
//! attempt recorded with its start, end and outcome.

use crate::support::tls_client::HandshakeClient;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One handshake attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When it began.
    pub start: Instant,
    /// When it ended.
    pub end: Instant,
    /// The served leaf's SHA-256 (upper-case hex), or why it failed.
    pub result: Result<String, String>,
}

/// The running prober.
pub struct Prober {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Vec<Attempt>>>,
}

impl Prober {
    /// Starts probing each (address, server name) of `targets`.
    pub fn start(root: &Path, targets: &[(SocketAddr, String)]) -> Prober {
        let client = HandshakeClient::new(root);
        let stop = Arc::new(AtomicBool::new(false));
        let threads = targets
            .iter()
            .cloned()
            .map(|(addr, sni)| {
                let client = client.clone();
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut attempts = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let start = Instant::now();
                        let result = client.handshake(addr, &sni);
                        attempts.push(Attempt {
                            start,
                            end: Instant::now(),
                            result,
                        });
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    attempts
                })
            })
            .collect();
        Prober { stop, threads }
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

/// The failed attempts of two different targets that overlap in time, if any.
pub fn overlapping_failures(all: &[Vec<Attempt>]) -> Option<(usize, Attempt, usize, Attempt)> {
    for (i, a_list) in all.iter().enumerate() {
        for (j, b_list) in all.iter().enumerate().skip(i + 1) {
            for a in a_list.iter().filter(|a| a.result.is_err()) {
                for b in b_list.iter().filter(|b| b.result.is_err()) {
                    if a.start <= b.end && b.start <= a.end {
                        return Some((i, a.clone(), j, b.clone()));
                    }
                }
            }
        }
    }
    None
}
