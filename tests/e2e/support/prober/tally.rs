//! What the prober counts: attempts, failed handshakes and server-side errors per
//! connection, failed reloads, and the details of the first failures (which connection,
//! what went wrong, when, and during which stage of the test).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures keep their details; the rest are only counted.
const KEPT_FAILURES: usize = 20;

/// One failure as the prober saw it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The connection (`client -> server`), or `reload of SERVICE`.
    pub what: String,
    /// `client`, `server` or `reload`: which side noticed.
    pub side: &'static str,
    /// The stage the test had announced when it happened.
    pub stage: String,
    /// Time since the prober started.
    pub at: Duration,
    /// The error, with the file it came from when there is one.
    pub detail: String,
}

/// The counters of one probed connection, shared by its client and server threads.
#[derive(Default)]
pub(super) struct Counters {
    pub attempts: AtomicU64,
    pub failures: AtomicU64,
    pub server_errors: AtomicU64,
    /// SHA-256 of each distinct leaf the server presented.
    pub leaves: Mutex<BTreeSet<Vec<u8>>>,
}

/// Where the prober's threads report failures.
pub(super) struct Recorder {
    started: Instant,
    stage: Mutex<String>,
    kept: Mutex<Vec<Failure>>,
    reload_errors: AtomicU64,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            started: Instant::now(),
            stage: Mutex::new("start".into()),
            kept: Mutex::new(Vec::new()),
            reload_errors: AtomicU64::new(0),
        }
    }

    /// Names the stage the following failures happen in.
    pub fn set_stage(&self, stage: &str) {
        *self.stage.lock().unwrap() = stage.to_owned();
    }

    pub fn stage(&self) -> String {
        self.stage.lock().unwrap().clone()
    }

    /// Records a failure of `side` on `what`.
    pub fn failure(&self, what: &str, side: &'static str, detail: String) {
        if side == "reload" {
            self.reload_errors.fetch_add(1, Ordering::SeqCst);
        }
        let mut kept = self.kept.lock().unwrap();
        if kept.len() < KEPT_FAILURES {
            kept.push(Failure {
                what: what.to_owned(),
                side,
                stage: self.stage(),
                at: self.started.elapsed(),
                detail,
            });
        }
    }

    pub fn reload_errors(&self) -> u64 {
        self.reload_errors.load(Ordering::SeqCst)
    }

    pub fn kept(&self) -> Vec<Failure> {
        self.kept.lock().unwrap().clone()
    }
}

/// The count of one probed connection.
#[derive(Debug, Clone)]
pub struct ConnectionTally {
    /// `client -> server`, with `(mtls)` for mutual TLS.
    pub connection: String,
    /// Handshakes tried by the client.
    pub attempts: u64,
    /// Handshakes that failed on the client's side (any error, an alert from the
    /// server included).
    pub failures: u64,
    /// Handshakes the server's side gave up on.
    pub server_errors: u64,
    /// How many different leaves the server presented in good handshakes.
    pub server_leaves: usize,
}

/// What a prober counted from its start to its stop.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Every probed connection, in model order.
    pub connections: Vec<ConnectionTally>,
    /// The connections not probed, each with the reason.
    pub skipped: Vec<(String, String)>,
    /// Reloads after which a service's files could not be read or did not make a TLS
    /// configuration (a key that does not match its certificate, a keystore that does
    /// not open).
    pub reload_errors: u64,
    /// Reloads the prober carried out, by service.
    pub reloads: BTreeMap<String, u64>,
    /// The first failures, in order.
    pub first_failures: Vec<Failure>,
}

impl Tally {
    /// Handshakes tried on every connection.
    pub fn attempts(&self) -> u64 {
        self.connections.iter().map(|c| c.attempts).sum()
    }

    /// Everything that went wrong: failed handshakes on either side and failed reloads.
    pub fn failures(&self) -> u64 {
        self.connections
            .iter()
            .map(|c| c.failures + c.server_errors)
            .sum::<u64>()
            + self.reload_errors
    }

    /// A few lines for the test's output and its assertion messages.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} handshakes, {} failures, {} failed reloads\n",
            self.attempts(),
            self.failures(),
            self.reload_errors
        );
        for c in &self.connections {
            let _ = writeln!(
                text,
                "  {}: {} attempts, {} failed, {} server errors, {} server leaves",
                c.connection, c.attempts, c.failures, c.server_errors, c.server_leaves
            );
        }
        for (connection, reason) in &self.skipped {
            let _ = writeln!(text, "  not probed: {connection}: {reason}");
        }
        for f in &self.first_failures {
            let _ = writeln!(
                text,
                "  FAILED at {:.3}s during {} ({} side) {}: {}",
                f.at.as_secs_f64(),
                f.stage,
                f.side,
                f.what,
                f.detail
            );
        }
        text
    }
}
