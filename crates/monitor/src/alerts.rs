//! The alert board: what an administrator must know about, logged as it happens and
//! kept (the latest [`KEPT_ALERTS`]) for `GET /api/alerts`.
//!
//! Sources: the edge's handshake alerts (an expired or mismatched domain certificate
//! served, a certdir that failed to reload), drained from the hub every second and
//! logged at most once a minute per kind, domain and name ([`drain_edge_alerts`]); ACME
//! failures; the expiry watcher's certificates entering `warning` or `expired`; webhook
//! posts given up on; contained panics of the watcher; agent rollouts halted by a
//! failed deployment; a node's deployment whose hook or check failed; and nodes whose
//! agent has not been seen for `[agents] unseen_after`. Each has its [`AlertKind`].

use certfleet_edge::alerts::{AlertEvent, AlertKind as EdgeAlertKind};
use certfleet_edge::certificate::now_unix;
use certfleet_edge::hub::CertificateHub;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many alerts the board keeps.
pub const KEPT_ALERTS: usize = 200;
/// How often the hub's alert queue is drained.
const DRAIN_INTERVAL: Duration = Duration::from_secs(1);
/// The same edge alert is logged at most this often.
const REPEAT_SECONDS: i64 = 60;

/// What an alert is about; its name (`as_str`, JSON) is what the log and the API show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A domain's certificate was served after its validity ended (handshake).
    Expired,
    /// A domain's certificate was served for a name it does not cover (handshake).
    NameMismatch,
    /// A certdir reload failed.
    CertdirReloadFailed,
    /// An ACME attempt failed.
    AcmeFailed,
    /// Renewing a domain's certificate from one of the server's CAs failed.
    CaRenewalFailed,
    /// A watched certificate entered `warning`.
    CertificateWarning,
    /// A watched certificate entered `expired`.
    CertificateExpired,
    /// A webhook post was given up on (or the webhook client could not be built).
    WebhookFailed,
    /// A task of the expiry watcher panicked; the watch goes on.
    MonitorFailed,
    /// A node's deployment failed during a staged rollout of its service group; the
    /// group waits for an administrator.
    RolloutHalted,
    /// A node reported a failed deployment of a service (its hook or its check failed,
    /// or the agent refused or rolled back).
    DeploymentFailed,
    /// A node's agent has not asked or reported for longer than `[agents] unseen_after`.
    NodeUnseen,
    /// A phase of a rotation the server drives has lasted longer than `[agents]
    /// rotation_stall_after`.
    RotationStalled,
}

impl AlertKind {
    /// The kind's name, as the log, the API and the web UI print it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Expired => "expired",
            AlertKind::NameMismatch => "name_mismatch",
            AlertKind::CertdirReloadFailed => "certdir_reload_failed",
            AlertKind::AcmeFailed => "acme_failed",
            AlertKind::CaRenewalFailed => "ca_renewal_failed",
            AlertKind::CertificateWarning => "certificate_warning",
            AlertKind::CertificateExpired => "certificate_expired",
            AlertKind::WebhookFailed => "webhook_failed",
            AlertKind::MonitorFailed => "monitor_failed",
            AlertKind::RolloutHalted => "rollout_halted",
            AlertKind::DeploymentFailed => "deployment_failed",
            AlertKind::NodeUnseen => "node_unseen",
            AlertKind::RotationStalled => "rotation_stalled",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<EdgeAlertKind> for AlertKind {
    fn from(kind: EdgeAlertKind) -> Self {
        match kind {
            EdgeAlertKind::Expired => AlertKind::Expired,
            EdgeAlertKind::NameMismatch => AlertKind::NameMismatch,
            EdgeAlertKind::CertdirReloadFailed => AlertKind::CertdirReloadFailed,
        }
    }
}

/// One alert as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ServerAlert {
    /// What it is about.
    pub kind: AlertKind,
    /// When (Unix seconds).
    pub at_unix: i64,
    /// The domain concerned, if any.
    pub domain: Option<String>,
    /// A sentence.
    pub message: String,
    /// How many times it happened since it was last logged (handshake alerts repeat).
    pub occurrences: u64,
}

/// The same edge alert: its kind, domain and SNI name (empty when absent).
type EdgeAlertKey = (AlertKind, String, String);

/// The alert board.
#[derive(Debug, Default)]
pub struct AlertBoard {
    recent: Mutex<VecDeque<ServerAlert>>,
    /// (kind, domain, sni) → (last logged at, occurrences since).
    last_logged: Mutex<HashMap<EdgeAlertKey, (i64, u64)>>,
}

impl AlertBoard {
    /// Logs and keeps an alert.
    pub fn raise(&self, kind: AlertKind, domain: Option<&str>, message: String, occurrences: u64) {
        tracing::warn!("ALERT {kind}: {message}");
        let alert = ServerAlert {
            kind,
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
    pub fn take_edge_event(&self, event: &AlertEvent) {
        let kind = AlertKind::from(event.kind);
        let key = (
            kind,
            event.domain.clone().unwrap_or_default(),
            event.sni.clone().unwrap_or_default(),
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
            kind,
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
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn event(at_unix: i64) -> AlertEvent {
        AlertEvent {
            kind: EdgeAlertKind::Expired,
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
        assert_eq!(recent[0].kind, AlertKind::Expired);
        assert_eq!(recent[0].occurrences, 1);
        assert_eq!(recent[1].occurrences, 30);
        assert!(
            recent[1].message.contains("SHA-1 AB"),
            "{}",
            recent[1].message
        );
    }

    #[test]
    fn kinds_print_and_serialise_as_their_names() {
        let every = [
            (AlertKind::Expired, "expired"),
            (AlertKind::NameMismatch, "name_mismatch"),
            (AlertKind::CertdirReloadFailed, "certdir_reload_failed"),
            (AlertKind::AcmeFailed, "acme_failed"),
            (AlertKind::CaRenewalFailed, "ca_renewal_failed"),
            (AlertKind::CertificateWarning, "certificate_warning"),
            (AlertKind::CertificateExpired, "certificate_expired"),
            (AlertKind::WebhookFailed, "webhook_failed"),
            (AlertKind::MonitorFailed, "monitor_failed"),
            (AlertKind::RolloutHalted, "rollout_halted"),
            (AlertKind::DeploymentFailed, "deployment_failed"),
            (AlertKind::NodeUnseen, "node_unseen"),
            (AlertKind::RotationStalled, "rotation_stalled"),
        ];
        for (kind, name) in every {
            assert_eq!(kind.to_string(), name);
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
        // The edge's kinds keep the names the edge gives them.
        for edge in [
            EdgeAlertKind::Expired,
            EdgeAlertKind::NameMismatch,
            EdgeAlertKind::CertdirReloadFailed,
        ] {
            assert_eq!(
                serde_json::to_value(edge).unwrap(),
                serde_json::to_value(AlertKind::from(edge)).unwrap()
            );
        }
    }
}
