//! What the server shows of the nodes while a rollout goes on: `GET /api/nodes`, the
//! answer `certfleet nodes` prints, read into each node's one service, and a thread that
//! reads it again and again until stopped, keeping every answer.

use crate::support::https::request;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What the server shows for a node's one service.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The node.
    pub node: String,
    /// `current`, `updating`, `behind`, `failed`, `unseen`.
    pub state: String,
    /// The thumbprint of the certificate it should have.
    pub desired: String,
    /// The thumbprint its files hold, as last reported.
    pub deployed: String,
    /// When its agent last reported on it.
    pub last_report: Option<OffsetDateTime>,
}

/// Each node's one service in a `GET /api/nodes` answer.
pub fn parse(answer: &serde_json::Value) -> Vec<Shown> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    answer["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {answer}"))
        .iter()
        .map(|node| {
            let service = &node["services"][0];
            Shown {
                node: text(&node["node"]),
                state: text(&service["state"]),
                desired: text(&service["desired"]),
                deployed: text(&service["deployed"]),
                last_report: service["last_report"]
                    .as_str()
                    .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok()),
            }
        })
        .collect()
}

/// A thread reading `GET /api/nodes` every 50 ms.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Vec<Shown>>>,
}

impl Watcher {
    /// Starts reading `url` with the `authorization` header.
    pub fn start(url: String, authorization: String) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                let answer = request("GET", &url, std::slice::from_ref(&authorization), None);
                assert_eq!(answer.status, 200, "GET /api/nodes: {}", answer.body);
                seen.push(parse(&answer.json()));
                std::thread::sleep(Duration::from_millis(50));
            }
            seen
        });
        Watcher { stop, thread }
    }

    /// Stops the thread; every answer it read, oldest first.
    pub fn finish(self) -> Vec<Vec<Shown>> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the nodes' watcher panicked")
    }
}
