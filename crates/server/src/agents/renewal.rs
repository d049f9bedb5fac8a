//! When a service's certificate issued through agents is due for renewal, and the watch
//! that wakes waiting assignment requests when one becomes due, so that renewals happen
//! with nobody touching anything.
//!
//! A certificate is due once two thirds of its lifetime have passed, less a jitter of up
//! to [`JITTER_PER_MILLE`]‰ of the lifetime that is fixed per platform and service (a
//! hash of both names): a fleet issued at one moment does not renew at one moment. An
//! administrator's `certfleet renew` makes a certificate due at once.

use super::records::{key, CertRecord, Records, PREFIX};
use super::Agents;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// The largest jitter, in thousandths of the lifetime.
pub const JITTER_PER_MILLE: u64 = 50;

/// How often the stored certificates are looked at for one that became due.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// How long a broken store watch waits before it is opened again.
const WATCH_RETRY: Duration = Duration::from_secs(5);

/// The reason an assignment gives for a renewal by time.
pub const DUE_REASON: &str = "renewal due: two thirds of the lifetime passed";

/// The reason an assignment gives for a renewal an administrator asked for.
pub const REQUESTED_REASON: &str = "renewal due: an administrator asked for it (certfleet renew)";

/// The jitter of `service` of `platform`, in thousandths of the lifetime
/// (`0..JITTER_PER_MILLE`): the same on every server and after every restart.
pub fn jitter_per_mille(platform: &str, service: &str) -> u64 {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{platform}/{service}").as_bytes(),
    );
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    u64::from_be_bytes(first) % JITTER_PER_MILLE
}

/// When `record` (of `service` of `platform`) becomes due for renewal.
pub fn due_at(platform: &str, service: &str, record: &CertRecord) -> OffsetDateTime {
    let lifetime = record.not_after - record.not_before;
    let jitter = lifetime * (jitter_per_mille(platform, service) as f64 / 1000.0);
    record.not_before + lifetime * 2 / 3 - jitter
}

/// Why `record` must be renewed at `now`, when it must.
pub fn due_reason(
    platform: &str,
    service: &str,
    record: &CertRecord,
    now: OffsetDateTime,
) -> Option<&'static str> {
    if record.renewal_requested {
        Some(REQUESTED_REASON)
    } else if now >= due_at(platform, service, record) {
        Some(DUE_REASON)
    } else {
        None
    }
}

/// The configured platforms with a stored certificate that became due in
/// `(since, now]`.
async fn became_due(
    agents: &Agents,
    since: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Vec<String>, String> {
    let mut platforms = Vec::new();
    for name in agents.models.platforms() {
        let Ok(snapshot) = agents.models.snapshot(name) else {
            continue; // the assignment requests report a model that does not load
        };
        let platform = &snapshot.view.platform.name;
        for service in &snapshot.view.platform.services {
            if let Some(record) = agents.records.cert(platform, &service.name).await? {
                let due = due_at(platform, &service.name, &record);
                if since < due && due <= now {
                    platforms.push(name.to_owned());
                    break;
                }
            }
        }
    }
    Ok(platforms)
}

/// Every [`CHECK_INTERVAL`]: wakes the waiting assignment requests of a platform where a
/// stored certificate became due, and settles the platforms' rollouts (a report another
/// server stored). Runs until the agents stop.
pub async fn watch_due(agents: Arc<Agents>) {
    let mut stopping = agents.stopping();
    let mut since = OffsetDateTime::now_utc();
    loop {
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(CHECK_INTERVAL) => {}
        }
        let now = OffsetDateTime::now_utc();
        match became_due(&agents, since, now).await {
            Ok(platforms) => {
                for platform in platforms {
                    tracing::info!(
                        "agents: a certificate of platform {platform} became due for renewal"
                    );
                    agents.changed(&platform);
                }
            }
            Err(err) => tracing::warn!("agents: looking for certificates due: {err}"),
        }
        since = now;
        super::rollout_settle::settle_all(&agents).await;
    }
}

/// The platform a changed key `agents/<prefix>/<platform>/...` belongs to.
fn platform_of<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    key.strip_prefix(PREFIX)?
        .strip_prefix('/')?
        .strip_prefix(prefix)?
        .strip_prefix('/')?
        .split('/')
        .next()
        .filter(|platform| !platform.is_empty())
}

/// Wakes the waiting assignment requests of a platform whenever something under
/// `agents/<prefix>/<platform>/` changes in the store, by this server or another one
/// sharing the store (a certificate issued or marked for renewal, a rollout's turn
/// given or ended). Runs until the agents stop.
pub async fn watch_store(agents: Arc<Agents>, prefix: &'static str) {
    let mut stopping = agents.stopping();
    let Ok(watched) = key(&[prefix]) else {
        return; // a constant segment: always a valid key
    };
    loop {
        let store = Arc::clone(agents.records.store());
        let opened = store.watch(&watched, None).await;
        if opened.is_ok() && prefix == "certs" {
            // Changes made while no watch was open are not replayed: look again.
            for platform in agents.models.platforms() {
                agents.models.certs_changed(platform);
            }
        }
        match opened {
            Ok(mut events) => loop {
                tokio::select! {
                    _ = stopping.wait_for(|stop| *stop) => return,
                    event = events.recv() => match event {
                        Some(Ok(event)) => {
                            if let Some(platform) = platform_of(event.key().as_str(), prefix) {
                                if prefix == "certs" {
                                    agents.models.certs_changed(platform);
                                } else {
                                    agents.changed(platform);
                                }
                            }
                        }
                        Some(Err(err)) => {
                            tracing::warn!("agents: watching {watched}: {err}");
                            break;
                        }
                        None => break,
                    }
                }
            },
            Err(err) => tracing::warn!("agents: watching {watched}: {err}"),
        }
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(WATCH_RETRY) => {}
        }
    }
}

/// Marks the stored certificate of `service` of `platform` for renewal (a
/// compare-and-swap), `now` for one that does not wait for a maintenance window;
/// `false` when none is stored.
pub async fn request_renewal(
    records: &Records,
    platform: &str,
    service: &str,
    now: bool,
) -> Result<bool, String> {
    records
        .update::<CertRecord>(&["certs", platform, service], |record| {
            record.renewal_requested = true;
            record.renewal_now |= now;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(days: i64) -> CertRecord {
        let not_before = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1000);
        CertRecord {
            leaf_pem: String::new(),
            chain_pem: Vec::new(),
            sha256: "aa".into(),
            not_before,
            not_after: not_before + time::Duration::days(days),
            request: String::new(),
            renewal_requested: false,
            renewal_now: false,
        }
    }

    #[test]
    fn a_changed_key_names_its_platform() {
        assert_eq!(platform_of("agents/certs/qms/web", "certs"), Some("qms"));
        assert_eq!(
            platform_of("agents/rollouts/qms/default", "rollouts"),
            Some("qms")
        );
        assert_eq!(platform_of("agents/rollouts/qms/default", "certs"), None);
        assert_eq!(platform_of("agents/certs/", "certs"), None);
        assert_eq!(platform_of("domains/certs/qms", "certs"), None);
    }

    #[test]
    fn the_jitter_is_stable_bounded_and_differs_between_services() {
        let jitters: Vec<u64> = (0..200)
            .map(|i| jitter_per_mille("qms", &format!("web-{i}")))
            .collect();
        assert!(jitters.iter().all(|j| *j < JITTER_PER_MILLE));
        let again: Vec<u64> = (0..200)
            .map(|i| jitter_per_mille("qms", &format!("web-{i}")))
            .collect();
        assert_eq!(jitters, again);
        let distinct: std::collections::BTreeSet<u64> = jitters.iter().copied().collect();
        assert!(distinct.len() > 10, "{distinct:?}");
        assert_ne!(
            (0..20)
                .map(|i| jitter_per_mille("qms", &format!("web-{i}")))
                .collect::<Vec<_>>(),
            (0..20)
                .map(|i| jitter_per_mille("lab", &format!("web-{i}")))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn due_between_the_jittered_point_and_two_thirds() {
        let cert = record(90);
        let two_thirds = cert.not_before + time::Duration::days(60);
        let earliest = two_thirds - time::Duration::days(90) * 0.05;
        for i in 0..50 {
            let service = format!("svc-{i}");
            let due = due_at("qms", &service, &cert);
            assert!(earliest <= due && due <= two_thirds, "{service}: {due}");
            assert_eq!(due_reason("qms", &service, &cert, due), Some(DUE_REASON));
            assert_eq!(
                due_reason("qms", &service, &cert, due - time::Duration::seconds(1)),
                None
            );
        }
        let mut asked = record(90);
        asked.renewal_requested = true;
        assert_eq!(
            due_reason("qms", "web", &asked, asked.not_before),
            Some(REQUESTED_REASON)
        );
    }
}
