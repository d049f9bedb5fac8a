//! The listeners' handshake and request totals: counted by the server's accept loops and
//! connections on [`ListenerCounters`] (one relaxed atomic increment per handshake or
//! response, no lock), gathered at scrape time from [`EdgeCounters`] and encoded by
//! [`crate::metrics`]'s collector:
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `certfleet_edge_handshakes_total` | counter: TLS handshakes since start | `listener`, `result` ([`HandshakeResult`]) |
//! | `certfleet_edge_requests_total` | counter: HTTP responses since start | `listener`, `code_class` (`1xx` … `5xx`) |
//!
//! `listener` is a `[[listener]]`'s role, or `admin`, `http`, `agents`. Every TLS
//! listener has a series for every result and every listener one for every class, zero
//! included, so that `rate()` sees each from the start.

use crate::metrics::label_value;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::MetricType;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// How a TLS handshake ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeResult {
    /// Completed; the connection goes on to HTTP.
    Ok,
    /// Refused or broken: no certificate, a protocol error, a bad client certificate.
    Failed,
    /// Not done within the header time-out.
    Timeout,
    /// The client left before or during its hello (port probes, health checks).
    Aborted,
    /// A TLS-ALPN-01 validation answered: the handshake was all.
    AcmeChallenge,
}

impl HandshakeResult {
    /// Every result, in the order the metrics list them.
    pub const ALL: [HandshakeResult; 5] = [
        HandshakeResult::Ok,
        HandshakeResult::Failed,
        HandshakeResult::Timeout,
        HandshakeResult::Aborted,
        HandshakeResult::AcmeChallenge,
    ];

    /// The `result` label.
    pub fn as_str(self) -> &'static str {
        match self {
            HandshakeResult::Ok => "ok",
            HandshakeResult::Failed => "failed",
            HandshakeResult::Timeout => "timeout",
            HandshakeResult::Aborted => "aborted",
            HandshakeResult::AcmeChallenge => "acme_challenge",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The `code_class` labels, by the status code's first digit less one.
const CODE_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// One listener's totals: plain atomics, shared by its accept loop and connections.
#[derive(Debug, Default)]
pub struct ListenerCounters {
    handshakes: [AtomicU64; HandshakeResult::ALL.len()],
    responses: [AtomicU64; CODE_CLASSES.len()],
}

impl ListenerCounters {
    /// Counts one handshake that ended with `result`.
    #[inline]
    pub fn handshake(&self, result: HandshakeResult) {
        self.handshakes[result.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one response with the status code `status` (outside 100–599: not counted).
    #[inline]
    pub fn response(&self, status: u16) {
        if let Some(counter) = usize::from(status / 100)
            .checked_sub(1)
            .and_then(|class| self.responses.get(class))
        {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The handshakes that ended with `result` so far.
    pub fn handshakes(&self, result: HandshakeResult) -> u64 {
        self.handshakes[result.index()].load(Ordering::Relaxed)
    }

    /// The responses of each class so far: `(class, count)`.
    pub fn responses(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        CODE_CLASSES
            .iter()
            .zip(&self.responses)
            .map(|(class, count)| (*class, count.load(Ordering::Relaxed)))
    }
}

/// One listener as the metrics name it.
#[derive(Debug, Clone)]
struct Registered {
    name: String,
    tls: bool,
    counters: Arc<ListenerCounters>,
}

/// Every listener's counters, registered once at start-up; the lock is taken only to
/// register and to scrape, never by a handshake or a request.
#[derive(Debug, Default)]
pub struct EdgeCounters {
    listeners: Mutex<Vec<Registered>>,
}

impl EdgeCounters {
    /// Makes `counters` the totals of the listener `name` (`tls`: whether it does
    /// handshakes).
    pub fn register(&self, name: &str, tls: bool, counters: Arc<ListenerCounters>) {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Registered {
                name: name.to_owned(),
                tls,
                counters,
            });
    }

    /// The totals as of now, one per registered listener.
    pub fn totals(&self) -> Vec<ListenerTotals> {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|listener| ListenerTotals {
                listener: listener.name.clone(),
                handshakes: if listener.tls {
                    HandshakeResult::ALL
                        .iter()
                        .map(|result| (result.as_str(), listener.counters.handshakes(*result)))
                        .collect()
                } else {
                    Vec::new()
                },
                responses: listener.counters.responses().collect(),
            })
            .collect()
    }
}

/// What one scrape reports about one listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerTotals {
    /// The listener's name.
    pub listener: String,
    /// `(result, count)`; empty for a listener without TLS.
    pub handshakes: Vec<(&'static str, u64)>,
    /// `(code_class, count)`.
    pub responses: Vec<(&'static str, u64)>,
}

/// Writes the listeners' families.
pub(crate) fn encode(
    listeners: &[ListenerTotals],
    encoder: &mut DescriptorEncoder<'_>,
) -> fmt::Result {
    let mut family = encoder.encode_descriptor(
        "certfleet_edge_handshakes",
        "TLS handshakes of each listener since start, by result",
        None,
        MetricType::Counter,
    )?;
    for listener in listeners {
        for (result, count) in &listener.handshakes {
            let labels = [
                ("listener", label_value(&listener.listener)),
                ("result", (*result).to_owned()),
            ];
            ConstCounter::new(*count).encode(family.encode_family(&labels)?)?;
        }
    }

    let mut family = encoder.encode_descriptor(
        "certfleet_edge_requests",
        "HTTP responses of each listener since start, by status code class",
        None,
        MetricType::Counter,
    )?;
    for listener in listeners {
        for (class, count) in &listener.responses {
            let labels = [
                ("listener", label_value(&listener.listener)),
                ("code_class", (*class).to_owned()),
            ];
            ConstCounter::new(*count).encode(family.encode_family(&labels)?)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshakes_and_responses_are_counted_per_listener() {
        let edge = EdgeCounters::default();
        let web = Arc::new(ListenerCounters::default());
        let plain = Arc::new(ListenerCounters::default());
        edge.register("web", true, Arc::clone(&web));
        edge.register("http", false, Arc::clone(&plain));
        web.handshake(HandshakeResult::Ok);
        web.handshake(HandshakeResult::Ok);
        web.handshake(HandshakeResult::Timeout);
        for status in [200, 204, 404, 503, 101, 99, 600] {
            web.response(status);
        }
        plain.response(308);
        let totals = edge.totals();
        assert_eq!(totals[0].listener, "web");
        assert!(totals[0].handshakes.contains(&("ok", 2)));
        assert!(totals[0].handshakes.contains(&("timeout", 1)));
        assert!(totals[0].handshakes.contains(&("failed", 0)));
        assert_eq!(
            totals[0].responses,
            [("1xx", 1), ("2xx", 2), ("3xx", 0), ("4xx", 1), ("5xx", 1)]
        );
        assert!(totals[1].handshakes.is_empty());
        assert!(totals[1].responses.contains(&("3xx", 1)));
    }
}
