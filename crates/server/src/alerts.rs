//! The server's alert board: what an administrator must know about, logged as it
//! happens and kept (the latest [`KEPT_ALERTS`]) for `GET /api/alerts`.
//!
//! Sources: the edge's handshake alerts (an expired or mismatched domain certificate
//! served, a certdir that failed to reload), drained from the hub every second and
//! logged at most once a minute per kind, domain and name; and ACME failures.

use certfleet_edge::alerts::AlertEvent;
use certfleet_edge::certificate::now_unix;
use certfleet_edge::hub::CertificateHub;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many alerts the board keeps.
pub const KEPT_ALERTS: usize = 200;
/// How often the hub's alert queue is drained.
const DRAIN_INTERVAL: Duration = Duration::from_secs(1);
/// The same edge alert is logged at most this often.
const REPEAT_SECONDS: i64 = 60;

/// One alert as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ServerAlert {
    /// `expired`, `name_mismatch`, `certdir_reload_failed`, `acme_failed`.
    pub kind: String,
    /// When (Unix seconds).
    pub at_unix: i64,
    /// The domain concerned, if any.
    pub domain: Option<String>,
    /// A sentence.
    pub message: String,
    /// How many times it happened since it was last logged (handshake alerts repeat).
    pub occurrences: u64,
}

/// The alert board.
#[derive(Default)]
pub struct AlertBoard {
    recent: Mutex<VecDeque<ServerAlert>>,
    /// (kind, domain, sni) → (last logged at, occurrences since).
    last_logged: Mutex<HashMap<String, (i64, u64)>>,
}

impl AlertBoard {
    /// Logs and keeps an alert.
    pub fn raise(&self, kind: &str, domain: Option<&str>, message: String, occurrences: u64) {
        tracing::warn!("ALERT {kind}: {message}");
        let alert = ServerAlert {
            kind: kind.to_owned(),
            at_unix: now_unix(),
            domain: domain.map(str::to_owned),
            message,
            occurrences,
        };
        let Ok(mut recent) = self.recent.lock() else {
            return; // a panicked holder: the log line above is what remains
        };
        if recent.len() == KEPT_ALERTS {
            recent.pop_front();
        }
        recent.push_back(alert);
    }

    /// The alerts kept, oldest first.
    pub fn recent(&self) -> Vec<ServerAlert> {
        self.recent
            .lock()
            .map(|recent| recent.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Takes in one edge event, raising it unless the same one was raised within the
    /// last minute (then it is only counted).
    fn take_edge_event(&self, event: &AlertEvent) {
        let kind = serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{:?}", event.kind));
        let key = format!(
            "{kind}|{}|{}",
            event.domain.as_deref().unwrap_or(""),
            event.sni.as_deref().unwrap_or("")
        );
        let occurrences = {
            let Ok(mut last) = self.last_logged.lock() else {
                return;
            };
            let entry = last.entry(key).or_insert((i64::MIN, 0));
            entry.1 += 1;
            if event.at_unix.saturating_sub(entry.0) < REPEAT_SECONDS {
                return;
            }
            let occurrences = entry.1;
            *entry = (event.at_unix, 0);
            occurrences
        };
        let subject = match (&event.domain, &event.sni) {
            (Some(domain), Some(sni)) => {
                format!("domain {domain} (SNI {sni}, role {})", event.role)
            }
            (Some(domain), None) => format!("domain {domain} (role {})", event.role),
            (None, _) => format!("role {}", event.role),
        };
        let thumbprint = if event.sha1_thumbprint.is_empty() {
            String::new()
        } else {
            format!(" [SHA-1 {}]", event.sha1_thumbprint)
        };
        self.raise(
            &kind,
            event.domain.as_deref(),
            format!("{subject}: {}{thumbprint}", event.message),
            occurrences,
        );
    }
}

/// Drains the hub's alerts into the board every second, until the task is dropped.
pub async fn drain_edge_alerts(hub: Arc<CertificateHub>, board: Arc<AlertBoard>) {
    let mut ticker = tokio::time::interval(DRAIN_INTERVAL);
    loop {
        ticker.tick().await;
        for event in hub.alerts().drain() {
            board.take_edge_event(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_edge::alerts::AlertKind;

    fn event(at_unix: i64) -> AlertEvent {
        AlertEvent {
            kind: AlertKind::Expired,
            at_unix,
            role: "web".into(),
            sni: Some("app.example.test".into()),
            domain: Some("app.example.test".into()),
            sha1_thumbprint: "AB".into(),
            message: "the certificate expired".into(),
        }
    }

    #[test]
    fn repeated_handshake_alerts_are_raised_once_a_minute() {
        let board = AlertBoard::default();
        for second in 0..30 {
            board.take_edge_event(&event(1_000 + second));
        }
        board.take_edge_event(&event(1_061));
        let recent = board.recent();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].kind, "expired");
        assert_eq!(recent[0].occurrences, 1);
        assert_eq!(recent[1].occurrences, 30);
        assert!(
            recent[1].message.contains("SHA-1 AB"),
            "{}",
            recent[1].message
        );
    }
}
