//! The watcher over an inventory of chains the test controls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::inventory::InventoryBuilder;
use certfleet_edge::certificate::ServedCertificate;
use certfleet_testkit::{bundle_pem, chain_der};
use time::OffsetDateTime;

/// The chains the test adds, judged with a 30-day warning window.
#[derive(Default)]
struct Chains(Mutex<Vec<(Vec<u8>, String)>>);

impl Chains {
    fn add(&self, domain: &str, days: u32) {
        let (_, _, leaf) = chain_der(domain, days);
        self.0.lock().unwrap().push((leaf, domain.to_owned()));
    }
}

impl InventorySource for Chains {
    async fn inventory(&self) -> Inventory {
        let mut builder = InventoryBuilder::new(OffsetDateTime::now_utc(), 30);
        for (leaf, domain) in self.0.lock().unwrap().iter() {
            builder.add_chain([leaf.as_slice()], &format!("domain {domain}"), Some(domain));
        }
        builder.finish()
    }
}

fn setup() -> WatchSetup<Chains> {
    let default = ServedCertificate::from_pem(&bundle_pem(&["default.test"])).unwrap();
    WatchSetup {
        source: Chains::default(),
        hub: Arc::new(CertificateHub::new(default)),
        alerts: Arc::new(AlertBoard::default()),
        shared: Arc::new(MonitorShared::default()),
        interval: Duration::from_secs(300),
        webhook: None,
    }
}

#[tokio::test]
async fn a_certificate_entering_warning_is_raised_once() {
    let setup = Arc::new(setup());
    let expiry = Arc::new(Mutex::new(ExpiryWatch::new()));
    setup.source.add("later.example.test", 90);
    // A certificate valid for months: nothing to say.
    assert!(evaluate(Arc::clone(&setup), Arc::clone(&expiry))
        .await
        .is_empty());

    setup.source.add("soon.example.test", 10);
    let events = evaluate(Arc::clone(&setup), Arc::clone(&expiry)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].domain.as_deref(), Some("soon.example.test"));
    assert_eq!(events[0].state.as_str(), "warning");
    assert!(events[0].previous_state.is_none());
    for _ in 0..3 {
        assert!(evaluate(Arc::clone(&setup), Arc::clone(&expiry))
            .await
            .is_empty());
    }
    assert!(setup.shared.last_evaluation_unix.load(Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn the_watcher_raises_what_it_finds_stops_when_told_and_contains_panics() {
    let setup = setup();
    setup.source.add("soon.example.test", 10);
    let (alerts, shared) = (Arc::clone(&setup.alerts), Arc::clone(&setup.shared));
    let watcher = ExpiryWatcher::start(setup);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while shared.last_evaluation_unix.load(Ordering::Relaxed) == 0 || alerts.recent().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no evaluation at start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::timeout(Duration::from_secs(10), watcher.stop())
        .await
        .expect("the watcher did not stop");
    let recent = alerts.recent();
    assert_eq!(recent.len(), 1, "{recent:?}");
    assert_eq!(recent[0].kind, AlertKind::CertificateWarning);
    assert_eq!(recent[0].domain.as_deref(), Some("soon.example.test"));

    let panicked = tokio::spawn(async { panic!("boom") }).await.unwrap_err();
    contained(&alerts, "a test task", &panicked);
    let recent = alerts.recent();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[1].kind, AlertKind::MonitorFailed);
    let cancelled = tokio::spawn(std::future::pending::<()>());
    cancelled.abort();
    contained(&alerts, "a cancelled task", &cancelled.await.unwrap_err());
    assert_eq!(alerts.recent().len(), 2);
}
